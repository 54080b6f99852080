# `tofu test` (OpenTofu >= 1.8) with the google and archive providers mocked: no credentials, no
# network, no real resources. The provider binaries are still needed for their schemas, so these
# tests also check every argument name and type against the real provider.
#
# The runners (test/integration/terraform/tofu-validate.test.ts and validate-with-providers.ts)
# run it in a scratch copy of the repository's terraform/ where they first write small stand-in
# bundles to tests/fixtures/dist/<function>/: these tests check the wiring, not the code.

mock_provider "google" {
  mock_data "google_project" {
    defaults = {
      number = "123456789012"
    }
  }
  mock_resource "google_monitoring_dashboard" {
    defaults = {
      id = "projects/123456789012/dashboards/0123abcd"
    }
  }
  # A real account's values: the real provider validates `service_account_id` (iam.tf) against
  # ServiceAccountLinkRegex, "projects/<project or ->/serviceAccounts/<6-30 character id>@<project>
  # .iam.gserviceaccount.com" (terraform-provider-google, google/verify/validation.go), so a mocked
  # random `name` fails there.
  mock_resource "google_service_account" {
    defaults = {
      name   = "projects/test-project/serviceAccounts/kg-findings-push@test-project.iam.gserviceaccount.com"
      email  = "kg-findings-push@test-project.iam.gserviceaccount.com"
      member = "serviceAccount:kg-findings-push@test-project.iam.gserviceaccount.com"
    }
  }
}

mock_provider "archive" {}

variables {
  project_id       = "test-project"
  region           = "europe-west1"
  cluster          = { name = "prod", location = "europe-west1-b" }
  pixie_cluster_id = "7f3c2a10-0b1e-4c55-9a7d-1e2f3a4b5c6d"
  pixie_api_key    = "px-api-test-only"
  # Stand-in bundles written by the test runner (see above).
  functions_dist_dir = "tests/fixtures/dist"
}

run "functions_are_internal_gen2_node22" {
  command = apply

  assert {
    condition     = length(google_cloudfunctions2_function.function) == 5
    error_message = "expected five functions"
  }
  assert {
    condition     = alltrue([for f in google_cloudfunctions2_function.function : f.service_config[0].ingress_settings == "ALLOW_INTERNAL_ONLY"])
    error_message = "every function must have internal-only ingress"
  }
  assert {
    condition     = alltrue([for name, f in google_cloudfunctions2_function.function : f.build_config[0].runtime == "nodejs22" && f.build_config[0].entry_point == name])
    error_message = "every function must run nodejs22 with its folder name as entry point"
  }
  assert {
    condition     = google_cloudfunctions2_function.function["observe-throttle"].service_config[0].secret_environment_variables[0].key == "PIXIE_API_KEY"
    error_message = "observe-throttle must get the Pixie key as a secret env var"
  }
  assert {
    condition     = google_cloudfunctions2_function.function["observe-throttle"].service_config[0].secret_environment_variables[0].version == google_secret_manager_secret_version.pixie_api_key.version
    error_message = "the Pixie key secret version must be pinned to the version Terraform wrote"
  }
  assert {
    condition     = length(google_cloudfunctions2_function.function["remediate"].service_config[0].secret_environment_variables) == 0
    error_message = "remediate must not see the Pixie key"
  }
  assert {
    condition     = google_cloudfunctions2_function.function["remediate"].service_config[0].environment_variables["REMEDIATION_MODE"] == "recommend"
    error_message = "remediation must default to recommend"
  }
  assert {
    condition = alltrue([for name in ["observe-throttle", "observe-births"] :
      google_cloudfunctions2_function.function[name].service_config[0].available_memory == "256Mi" &&
      google_cloudfunctions2_function.function[name].service_config[0].environment_variables["NODE_OPTIONS"] == "--max-old-space-size=128"
    ])
    error_message = "the observe functions run at 256Mi with V8's old space capped at 128 MiB"
  }
  assert {
    condition     = !contains(keys(google_cloudfunctions2_function.function["remediate"].service_config[0].environment_variables), "NODE_OPTIONS")
    error_message = "functions without a heap cap get no NODE_OPTIONS"
  }
}

run "scheduler_calls_observe_with_oidc" {
  command = apply

  assert {
    condition     = toset(keys(google_cloud_scheduler_job.observe)) == toset(["observe-throttle", "observe-births"])
    error_message = "one Scheduler job per observe function"
  }
  assert {
    condition = alltrue([for name, job in google_cloud_scheduler_job.observe :
      job.http_target[0].oidc_token[0].audience == google_cloudfunctions2_function.function[name].service_config[0].uri &&
      job.http_target[0].uri == google_cloudfunctions2_function.function[name].service_config[0].uri &&
      job.http_target[0].oidc_token[0].service_account_email == google_service_account.scheduler.email
    ])
    error_message = "Scheduler must call each observe function with an OIDC token whose audience is the function URI"
  }
  assert {
    condition = alltrue([for name, job in google_cloud_scheduler_job.observe :
      tonumber(trimsuffix(job.attempt_deadline, "s")) >= google_cloudfunctions2_function.function[name].service_config[0].timeout_seconds
    ])
    error_message = "attempt_deadline must be at least the function timeout"
  }
  assert {
    condition = alltrue([for name, job in google_cloud_scheduler_job.observe :
      google_cloudfunctions2_function.function[name].service_config[0].environment_variables["OBSERVE_SCHEDULE"] == job.schedule &&
      google_cloudfunctions2_function.function[name].service_config[0].environment_variables["OBSERVE_TIME_ZONE"] == job.time_zone
    ])
    error_message = "each observe function must read its window from its own job's schedule and time zone"
  }
}

run "findings_topic_enforces_the_schema" {
  command = apply

  assert {
    condition     = google_pubsub_topic.findings.schema_settings[0].encoding == "JSON" && google_pubsub_topic.findings.schema_settings[0].schema == google_pubsub_schema.findings.id
    error_message = "the findings topic must enforce the Avro schema with JSON encoding"
  }
  assert {
    condition     = google_pubsub_schema.findings.type == "AVRO" && google_pubsub_schema.findings.definition == file("${path.module}/../../../shared/findings/finding.avsc")
    error_message = "the topic schema must be shared/findings/finding.avsc"
  }
}

run "push_subscriptions_dead_letter_and_authenticate" {
  command = apply

  assert {
    condition = alltrue([for name, s in google_pubsub_subscription.push :
      s.push_config[0].oidc_token[0].audience == google_cloudfunctions2_function.function[name].service_config[0].uri &&
      s.push_config[0].push_endpoint == google_cloudfunctions2_function.function[name].service_config[0].uri &&
      s.push_config[0].oidc_token[0].service_account_email == google_service_account.push.email
    ])
    error_message = "push subscriptions must carry an OIDC token for the function URI"
  }
  assert {
    condition = alltrue([for s in concat(values(google_pubsub_subscription.push), [google_pubsub_subscription.bigquery]) :
      s.dead_letter_policy[0].dead_letter_topic == google_pubsub_topic.dead_letter.id && s.dead_letter_policy[0].max_delivery_attempts == 10
    ])
    error_message = "every findings subscription must dead-letter to the dead-letter topic"
  }
  assert {
    condition     = google_pubsub_subscription.dead_letter.topic == google_pubsub_topic.dead_letter.id
    error_message = "the dead-letter topic needs a subscription or dead letters are lost"
  }
  assert {
    condition     = google_pubsub_subscription.bigquery.bigquery_config[0].use_topic_schema
    error_message = "the BigQuery subscription must write columns from the topic schema"
  }
  assert {
    condition     = google_pubsub_subscription.push["remediate"].filter == "attributes.kind = \"cpu.throttle\""
    error_message = "remediate must be pushed throttle findings only"
  }
  assert {
    condition     = google_pubsub_subscription.push["record"].filter == ""
    error_message = "record must be pushed every kind"
  }
}

run "evidence_age_follows_the_throttle_schedule" {
  command = plan

  assert {
    condition     = google_cloudfunctions2_function.function["remediate"].service_config[0].environment_variables["REMEDIATION_MAX_EVIDENCE_AGE"] == "15m"
    error_message = "the default throttle schedule (every 5 minutes) must give 15m of evidence age"
  }
}

run "evidence_age_follows_a_slower_schedule" {
  command = plan

  variables {
    schedules = { observe_throttle = "*/12 * * * *" }
  }

  assert {
    condition     = google_cloudfunctions2_function.function["remediate"].service_config[0].environment_variables["REMEDIATION_MAX_EVIDENCE_AGE"] == "36m"
    error_message = "a run every 12 minutes must give three intervals (36m) of evidence age"
  }
}

run "evidence_age_set_explicitly" {
  command = plan

  variables {
    remediation = { max_evidence_age = "45m" }
  }

  assert {
    condition     = google_cloudfunctions2_function.function["remediate"].service_config[0].environment_variables["REMEDIATION_MAX_EVIDENCE_AGE"] == "45m"
    error_message = "an explicit remediation.max_evidence_age must reach remediate"
  }
}

run "rejects_an_evidence_age_outside_a_minute_to_a_day" {
  command = plan

  variables {
    remediation = { max_evidence_age = "30s" }
  }

  expect_failures = [var.remediation]
}


run "iam_is_resource_scoped" {
  command = apply

  assert {
    condition     = google_pubsub_topic_iam_member.pubsub_agent_publishes_dead_letters.member == "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
    error_message = "the Pub/Sub service agent must publish to the dead-letter topic"
  }
  assert {
    condition     = toset(keys(google_pubsub_subscription_iam_member.pubsub_agent_acks_dead_letters)) == toset(["remediate", "record", "bigquery"])
    error_message = "the Pub/Sub service agent must be subscriber on every dead-lettering subscription"
  }
  assert {
    condition     = alltrue([for m in google_project_iam_member.cluster_viewer : m.role == "roles/container.clusterViewer"]) && toset(keys(google_project_iam_member.cluster_viewer)) == toset(["remediate", "record"])
    error_message = "only remediate and record get clusterViewer, and nothing more"
  }
  assert {
    condition     = toset(keys(google_cloud_run_v2_service_iam_member.scheduler_invokes)) == toset(["observe-throttle", "observe-births"]) && toset(keys(google_cloud_run_v2_service_iam_member.push_invokes)) == toset(["remediate", "record"])
    error_message = "invokers must be granted per function"
  }
}

run "renders_rbac_for_the_real_identities" {
  command = apply

  variables {
    remediation = { apply_namespaces = ["shop", "payments"] }
  }

  assert {
    condition     = !strcontains(output.kubernetes_rbac, "@PROJECT_ID.") && strcontains(output.kubernetes_rbac, "name: ${google_service_account.function["remediate"].email}") && strcontains(output.kubernetes_rbac, "name: kernel-gossip-recorder\n")
    error_message = "the RBAC subjects must be the real service account e-mails"
  }
  assert {
    condition     = length(regexall("\"kind\": \"RoleBinding\"", output.kubernetes_rbac)) == 2 && strcontains(output.kubernetes_rbac, "\"namespace\": \"payments\"")
    error_message = "one apply RoleBinding per apply namespace"
  }
}

run "rejects_apply_rights_in_kube_system" {
  command = plan

  variables {
    remediation = { apply_namespaces = ["kube-system"] }
  }

  expect_failures = [var.remediation]
}

run "rejects_a_bad_remediation_mode" {
  command = plan

  variables {
    remediation = { mode = "yolo" }
  }

  expect_failures = [var.remediation]
}

run "rejects_a_schedule_whose_runs_do_not_tile_or_outlive_the_probes" {
  command = plan

  variables {
    # Every 7 minutes is not evenly spaced across an hour; every 15 lets a missed run outlive the 30-minute probe TTL.
    schedules = { observe_throttle = "*/7 * * * *", observe_births = "*/15 * * * *" }
  }

  expect_failures = [var.schedules]
}

run "rejects_a_streak_longer_than_observe_throttle_reads" {
  command = plan

  variables {
    remediation = { min_windows = 4 }
  }

  expect_failures = [var.remediation]
}

run "counts_and_alerts_on_nodes_without_the_probe" {
  command = apply

  assert {
    condition     = strcontains(google_logging_metric.nodes_without_probe.filter, "jsonPayload.event=\"probe.node_missing\"") && strcontains(google_logging_metric.nodes_without_probe.filter, "resource.type=\"cloud_run_revision\"")
    error_message = "nodes_without_probe must count the functions' probe.node_missing log events (shared/observe/coverage-log.ts)"
  }
  assert {
    condition     = google_logging_metric.nodes_without_probe.label_extractors == tomap({ node = "EXTRACT(jsonPayload.node)", kind = "EXTRACT(jsonPayload.kind)" })
    error_message = "nodes_without_probe must be labelled by the node and probe kind the log events carry"
  }
  assert {
    condition     = length(google_monitoring_alert_policy.nodes_without_probe) == 1 && strcontains(google_monitoring_alert_policy.nodes_without_probe[0].conditions[0].condition_threshold[0].filter, "logging.googleapis.com/user/kg_kernel_gossip/nodes_without_probe")
    error_message = "an alert policy must watch the nodes_without_probe metric"
  }
  assert {
    condition     = google_monitoring_alert_policy.nodes_without_probe[0].conditions[0].condition_threshold[0].threshold_value == 0 && google_monitoring_alert_policy.nodes_without_probe[0].conditions[0].condition_threshold[0].comparison == "COMPARISON_GT"
    error_message = "any node without the probe in the window must alert"
  }
}

run "no_coverage_alert_when_alerts_are_off" {
  command = plan

  variables {
    alerts = { enabled = false }
  }

  assert {
    condition     = length(google_monitoring_alert_policy.nodes_without_probe) == 0
    error_message = "alerts.enabled = false must create no coverage alert"
  }
}
