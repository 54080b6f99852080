# Log-based metrics read the functions' one-line JSON logs (shared/log.ts). The fields below are
# the logging contract the code emits (docs/deployment.md, "Log events"):
#   event = "finding.published"   with kind, findingSeverity
#   event = "remediation.decided" with outcome
#   event = "remediation.refused" with refusal
#   event = "probe.failed"        with kind
#   event = "probe.node_missing"  with kind, node (one per node an observe run's data lacks)
# `severity` itself is Cloud Logging's log level, so a finding's severity is `findingSeverity`.

locals {
  log_events = {
    finding_published   = "finding.published"
    remediation_decided = "remediation.decided"
    remediation_refused = "remediation.refused"
    probe_failed        = "probe.failed"
    probe_node_missing  = "probe.node_missing"
  }

  # Only this installation's functions count.
  functions_log_filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=(${join(" OR ", [for name in sort(keys(local.function_names)) : "\"${local.function_names[name]}\""])})",
  ])

  metric_prefix = replace("${var.name_prefix}_kernel_gossip", "-", "_")
}

resource "google_logging_metric" "findings_published" {
  project     = var.project_id
  name        = "${local.metric_prefix}/findings_published"
  description = "Findings published to the findings topic, by kind and finding severity."
  filter      = "${local.functions_log_filter} AND jsonPayload.event=\"${local.log_events.finding_published}\""

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "kernel-gossip findings published"

    labels {
      key         = "kind"
      value_type  = "STRING"
      description = "cpu.throttle, pod.birth or remediation.result"
    }
    labels {
      key         = "severity"
      value_type  = "STRING"
      description = "info, warning or critical"
    }
  }

  label_extractors = {
    kind     = "EXTRACT(jsonPayload.kind)"
    severity = "EXTRACT(jsonPayload.findingSeverity)"
  }

  depends_on = [google_project_service.enabled]
}

# Findings remediate refused before any decision (the evidence was not admitted), by refusal: a
# steady foreign-cluster count means another installation publishes to this topic; stale, a backlog
# or a re-drive; future, a clock to fix; invalid-name, a producer that is not kernel-gossip.
resource "google_logging_metric" "remediations_refused" {
  project     = var.project_id
  name        = "${local.metric_prefix}/remediations_refused"
  description = "Findings remediate refused before deciding, by refusal (foreign-cluster, stale, future, invalid-name)."
  filter      = "${local.functions_log_filter} AND jsonPayload.event=\"${local.log_events.remediation_refused}\""

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "kernel-gossip refused findings"

    labels {
      key         = "refusal"
      value_type  = "STRING"
      description = "foreign-cluster, stale, future or invalid-name"
    }
  }

  label_extractors = {
    refusal = "EXTRACT(jsonPayload.refusal)"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_logging_metric" "remediations_decided" {
  project     = var.project_id
  name        = "${local.metric_prefix}/remediations_decided"
  description = "Remediation decisions, by outcome (applied, recommended, skipped, conflict, failed, ...)."
  filter      = "${local.functions_log_filter} AND jsonPayload.event=\"${local.log_events.remediation_decided}\""

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "kernel-gossip remediation decisions"

    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "What the remediator did or why it did not act."
    }
  }

  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_logging_metric" "probe_failures" {
  project     = var.project_id
  name        = "${local.metric_prefix}/probe_failures"
  description = "Observe runs whose kernel probe failed (Pixie unreachable, script error, no data), by probe kind and function."
  filter      = "${local.functions_log_filter} AND jsonPayload.event=\"${local.log_events.probe_failed}\""

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "kernel-gossip probe failures"

    labels {
      key         = "kind"
      value_type  = "STRING"
      description = "Which probe failed."
    }
    labels {
      key         = "function"
      value_type  = "STRING"
      description = "The function that ran the probe."
    }
  }

  label_extractors = {
    kind     = "EXTRACT(jsonPayload.kind)"
    function = "EXTRACT(resource.labels.service_name)"
  }

  depends_on = [google_project_service.enabled]
}

# Nodes an observe run's kernel data did not cover: Pixie reports a probe running when it runs on any
# node, so a node where it failed (no BTF, a kernel without a field the program reads) or that no
# program variant selects would otherwise go unnoticed. One count per node per run, by node and probe.
resource "google_logging_metric" "nodes_without_probe" {
  project     = var.project_id
  name        = "${local.metric_prefix}/nodes_without_probe"
  description = "Nodes an observe run's kernel data did not cover (the probe failed there or was not deployed), by node and probe kind."
  filter      = "${local.functions_log_filter} AND jsonPayload.event=\"${local.log_events.probe_node_missing}\""

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "kernel-gossip nodes without the probe"

    labels {
      key         = "node"
      value_type  = "STRING"
      description = "The node (Pixie agent hostname) without the probe."
    }
    labels {
      key         = "kind"
      value_type  = "STRING"
      description = "cpu.throttle or pod.birth"
    }
  }

  label_extractors = {
    node = "EXTRACT(jsonPayload.node)"
    kind = "EXTRACT(jsonPayload.kind)"
  }

  depends_on = [google_project_service.enabled]
}

locals {
  push_subscription_ids = [for name in sort(tolist(local.pushed_functions)) : google_pubsub_subscription.push[name].name]
  all_subscription_ids  = concat(local.push_subscription_ids, [google_pubsub_subscription.bigquery.name])

  # Monitoring filters list values with one_of(); Logging filters above use (a OR b).
  subscription_filter = "resource.label.subscription_id=one_of(${join(",", [for s in local.all_subscription_ids : "\"${s}\""])})"

  dead_letter_filter = join(" AND ", [
    "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\"",
    "resource.type=\"pubsub_subscription\"",
    local.subscription_filter,
  ])

  failed_requests_filter = join(" AND ", [
    "metric.type=\"run.googleapis.com/request_count\"",
    "resource.type=\"cloud_run_revision\"",
    "resource.label.service_name=one_of(${join(",", [for name in sort(keys(local.function_names)) : "\"${local.function_names[name]}\""])})",
    "metric.label.response_code_class=\"5xx\"",
  ])

  user_metric = {
    findings_published   = "logging.googleapis.com/user/${google_logging_metric.findings_published.name}"
    remediations_decided = "logging.googleapis.com/user/${google_logging_metric.remediations_decided.name}"
    remediations_refused = "logging.googleapis.com/user/${google_logging_metric.remediations_refused.name}"
    probe_failures       = "logging.googleapis.com/user/${google_logging_metric.probe_failures.name}"
    nodes_without_probe  = "logging.googleapis.com/user/${google_logging_metric.nodes_without_probe.name}"
  }

  # One chart: a metric summed per minute, one line per value of group_by.
  chart = { for key, c in {
    findings     = { title = "Findings published (by kind, severity)", filter = "metric.type=\"${local.user_metric.findings_published}\"", group_by = ["metric.label.kind", "metric.label.severity"] }
    remediations = { title = "Remediation decisions (by outcome)", filter = "metric.type=\"${local.user_metric.remediations_decided}\"", group_by = ["metric.label.outcome"] }
    refusals     = { title = "Findings refused before deciding (by refusal)", filter = "metric.type=\"${local.user_metric.remediations_refused}\"", group_by = ["metric.label.refusal"] }
    probes       = { title = "Probe failures (by kind)", filter = "metric.type=\"${local.user_metric.probe_failures}\"", group_by = ["metric.label.kind"] }
    coverage     = { title = "Nodes without the probe (by node, kind)", filter = "metric.type=\"${local.user_metric.nodes_without_probe}\"", group_by = ["metric.label.node", "metric.label.kind"] }
    dead_letters = { title = "Dead-lettered findings (by subscription)", filter = local.dead_letter_filter, group_by = ["resource.label.subscription_id"] }
    failed_runs  = { title = "Function 5xx answers (by function)", filter = local.failed_requests_filter, group_by = ["resource.label.service_name"] }
    } : key => {
    title = c.title
    xyChart = {
      chartOptions = { mode = "COLOR" }
      dataSets = [{
        plotType   = "STACKED_BAR"
        targetAxis = "Y1"
        timeSeriesQuery = {
          timeSeriesFilter = {
            filter = c.filter
            aggregation = {
              alignmentPeriod    = "60s"
              perSeriesAligner   = "ALIGN_SUM"
              crossSeriesReducer = "REDUCE_SUM"
              groupByFields      = c.group_by
            }
          }
        }
      }]
    }
  } }
}

resource "google_monitoring_dashboard" "kernel_gossip" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "kernel-gossip (${var.name_prefix}, ${coalesce(var.cluster.display_name, var.cluster.name)})"
    mosaicLayout = {
      columns = 12
      tiles = [
        { xPos = 0, yPos = 0, width = 6, height = 4, widget = local.chart.findings },
        { xPos = 6, yPos = 0, width = 6, height = 4, widget = local.chart.remediations },
        { xPos = 0, yPos = 4, width = 4, height = 4, widget = local.chart.probes },
        { xPos = 4, yPos = 4, width = 4, height = 4, widget = local.chart.dead_letters },
        { xPos = 8, yPos = 4, width = 4, height = 4, widget = local.chart.failed_runs },
        { xPos = 0, yPos = 8, width = 6, height = 4, widget = local.chart.refusals },
        { xPos = 6, yPos = 8, width = 6, height = 4, widget = local.chart.coverage },
      ]
    }
  })

  depends_on = [google_project_service.enabled]
}

# --- Alerts ---------------------------------------------------------------------------------

resource "google_monitoring_notification_channel" "email" {
  count = var.alerts.enabled && var.alerts.email != null ? 1 : 0

  project      = var.project_id
  display_name = "kernel-gossip alerts (${var.name_prefix})"
  type         = "email"
  labels       = { email_address = var.alerts.email }

  depends_on = [google_project_service.enabled]
}

locals {
  notification_channels = concat(var.alerts.notification_channels, google_monitoring_notification_channel.email[*].id)
}

resource "google_monitoring_alert_policy" "dead_letters" {
  count = var.alerts.enabled ? 1 : 0

  project               = var.project_id
  display_name          = "kernel-gossip: findings dead-lettered (${var.name_prefix})"
  combiner              = "OR"
  notification_channels = local.notification_channels

  conditions {
    display_name = "A finding could not be delivered after ${var.findings.max_delivery_attempts} attempts"
    condition_threshold {
      filter          = local.dead_letter_filter
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = var.alerts.window
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.subscription_id"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Findings reached the dead-letter topic `${google_pubsub_topic.dead_letter.name}`. Pull them from `${google_pubsub_subscription.dead_letter.name}` and read the remediate/record logs for the reason."
  }
}

resource "google_monitoring_alert_policy" "failing_runs" {
  count = var.alerts.enabled ? 1 : 0

  project               = var.project_id
  display_name          = "kernel-gossip: failing runs (${var.name_prefix})"
  combiner              = "OR"
  notification_channels = local.notification_channels

  conditions {
    display_name = "A function answered 5xx"
    condition_threshold {
      filter          = local.failed_requests_filter
      comparison      = "COMPARISON_GT"
      threshold_value = var.alerts.failing_runs_threshold
      duration        = "0s"
      aggregations {
        alignment_period     = var.alerts.window
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  conditions {
    display_name = "A kernel probe failed"
    condition_threshold {
      filter          = "metric.type=\"${local.user_metric.probe_failures}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alerts.failing_runs_threshold
      duration        = "0s"
      aggregations {
        alignment_period     = var.alerts.window
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.kind"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A kernel-gossip function failed (5xx) or an observe run logged `probe.failed`. Check the function logs (jsonPayload.event) in Cloud Logging."
  }
}

resource "google_monitoring_alert_policy" "nodes_without_probe" {
  count = var.alerts.enabled ? 1 : 0

  project               = var.project_id
  display_name          = "kernel-gossip: nodes without the probe (${var.name_prefix})"
  combiner              = "OR"
  notification_channels = local.notification_channels

  conditions {
    display_name = "An observe run's kernel data lacks a node"
    condition_threshold {
      filter          = "metric.type=\"${local.user_metric.nodes_without_probe}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = var.alerts.window
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.node", "metric.label.kind"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "An observe run's kernel data did not cover every node: its findings say which nodes they cover (`coverage`). The `probe.node_missing` log events name each node with Pixie's error (from its `probe_status` table); docs/kernel-requirements.md lists the node images and kernels the probes need."
  }
}
