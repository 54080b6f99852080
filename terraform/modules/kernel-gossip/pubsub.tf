# --- Schema and topics ----------------------------------------------------------------------

resource "google_pubsub_schema" "findings" {
  project    = var.project_id
  name       = "${var.name_prefix}-finding"
  type       = "AVRO"
  definition = file(local.findings_schema_path)

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "findings" {
  project = var.project_id
  name    = local.findings_topic_name
  labels  = local.labels
  # Kept after delivery so a subscriber can seek back and replay recent findings.
  message_retention_duration = var.findings.message_retention

  # Publishing anything that is not a valid finding fails with INVALID_ARGUMENT.
  schema_settings {
    schema   = google_pubsub_schema.findings.id
    encoding = "JSON"
  }

  depends_on = [google_pubsub_schema.findings]
}

# Findings a subscriber could not take after max_delivery_attempts land here.
resource "google_pubsub_topic" "dead_letter" {
  project                    = var.project_id
  name                       = local.dead_letter_topic_name
  labels                     = local.labels
  message_retention_duration = "2678400s"

  depends_on = [google_project_service.enabled]
}

# Holds dead letters until someone looks at them (a topic without a subscription drops them).
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${local.dead_letter_topic_name}-hold"
  topic                      = google_pubsub_topic.dead_letter.id
  labels                     = local.labels
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }
}

# --- Push subscriptions: remediate and record ----------------------------------------------

resource "google_pubsub_subscription" "push" {
  for_each = local.pushed_functions

  project = var.project_id
  name    = "${local.findings_topic_name}-${each.key}"
  topic   = google_pubsub_topic.findings.id
  labels  = local.labels

  # For push, the ack deadline is how long Pub/Sub waits for the HTTP answer: the function's
  # timeout, so a run that is still working is not redelivered in parallel.
  ack_deadline_seconds = local.function_sizing[each.key].timeout
  # The ordering key is the workload: one workload's findings are handled one at a time.
  enable_message_ordering = true
  # Only the kinds the function acts on (the contract's push_filter, on the `kind` attribute every
  # finding carries); Pub/Sub acknowledges the others itself. A filter cannot change after
  # creation: a new filter replaces the subscription.
  filter = local.function_contract[each.key].push_filter

  push_config {
    push_endpoint = google_cloudfunctions2_function.function[each.key].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.function[each.key].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.findings.max_delivery_attempts
  }

  # A subscription that only receives when something goes wrong must never expire.
  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invokes,
    google_service_account_iam_member.pubsub_agent_signs_push_tokens,
  ]
}

# --- History: every finding as a BigQuery row ----------------------------------------------

resource "google_pubsub_subscription" "bigquery" {
  project = var.project_id
  name    = "${local.findings_topic_name}-bigquery"
  topic   = google_pubsub_topic.findings.id
  labels  = local.labels

  bigquery_config {
    table = "${google_bigquery_table.findings.project}.${google_bigquery_table.findings.dataset_id}.${google_bigquery_table.findings.table_id}"
    # Columns come from the topic's Avro schema; the table schema mirrors it field by field.
    use_topic_schema    = true
    write_metadata      = false
    drop_unknown_fields = false
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.findings.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_bigquery_table_iam_member.pubsub_agent_writes_findings]
}
