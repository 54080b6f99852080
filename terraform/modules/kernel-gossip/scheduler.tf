locals {
  schedule_of = {
    "observe-throttle" = var.schedules.observe_throttle
    "observe-births"   = var.schedules.observe_births
  }
}

resource "google_cloud_scheduler_job" "observe" {
  for_each = local.scheduled_functions

  project     = var.project_id
  region      = var.region
  name        = local.function_names[each.key]
  description = "Runs kernel-gossip ${each.key} on schedule."
  schedule    = local.schedule_of[each.key]
  time_zone   = var.schedules.time_zone
  # Longer than the function's timeout, so a slow run that still succeeds is not recorded as a
  # failed attempt (and retried) by Scheduler.
  attempt_deadline = "${local.function_sizing[each.key].timeout + 30}s"

  # One retry after a failed run: runs are idempotent (findings carry stable ids), and the next
  # scheduled run comes soon anyway, so more retries would only pile up behind it.
  retry_config {
    retry_count          = 1
    min_backoff_duration = "30s"
    max_backoff_duration = "120s"
    max_retry_duration   = "0s"
    max_doublings        = 2
  }

  http_target {
    uri         = google_cloudfunctions2_function.function[each.key].service_config[0].uri
    http_method = "POST"
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode(jsonencode({ trigger = "cloud-scheduler", job = local.function_names[each.key] }))

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.function[each.key].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.scheduler_invokes]
}
