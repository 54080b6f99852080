locals {
  # -------------------------------------------------------------------------------------------
  # The function contract: the one machine-readable place that says which functions exist, how
  # they are triggered, and which environment variables each one reads. Tests compare it with
  # functions/<name>/ and with the config specs in shared/; docs/deployment.md describes it.
  #
  # Every function is an HTTP function registered with the Functions Framework under its folder
  # name (the entry point), bundled by `npm run build` into dist/functions/<name>/.
  # -------------------------------------------------------------------------------------------
  function_contract = {
    "observe-throttle" = {
      entry_point = "observe-throttle"
      trigger     = "scheduler"
      env         = ["GOOGLE_CLOUD_PROJECT", "LOG_LEVEL", "FUNCTION_TIMEOUT_SECONDS", "PIXIE_CLUSTER_ID", "PIXIE_CLOUD_ADDR", "FINDINGS_TOPIC", "KG_CLUSTER_NAME", "KG_NAMESPACES", "OBSERVE_SCHEDULE", "OBSERVE_TIME_ZONE"]
      secret_env  = ["PIXIE_API_KEY"]
    }
    "observe-births" = {
      entry_point = "observe-births"
      trigger     = "scheduler"
      env         = ["GOOGLE_CLOUD_PROJECT", "LOG_LEVEL", "FUNCTION_TIMEOUT_SECONDS", "PIXIE_CLUSTER_ID", "PIXIE_CLOUD_ADDR", "FINDINGS_TOPIC", "KG_CLUSTER_NAME", "KG_NAMESPACES", "OBSERVE_SCHEDULE", "OBSERVE_TIME_ZONE", "KG_BIRTH_PROBE"]
      secret_env  = ["PIXIE_API_KEY"]
    }
    "remediate" = {
      entry_point = "remediate"
      trigger     = "findings-push"
      env = [
        "GOOGLE_CLOUD_PROJECT", "LOG_LEVEL", "FUNCTION_TIMEOUT_SECONDS", "FINDINGS_TOPIC", "KG_CLUSTER_NAME",
        "GKE_CLUSTER_NAME", "GKE_CLUSTER_LOCATION", "GKE_ENDPOINT",
        "REMEDIATION_MODE", "REMEDIATION_MAX_STEP", "REMEDIATION_CEILING_MILLICORES", "REMEDIATION_COOLDOWN",
        "REMEDIATION_MIN_WINDOWS", "REMEDIATION_MAX_ACTIONS_PER_RUN", "REMEDIATION_RESIZE_IN_PLACE",
        "REMEDIATION_DENIED_NAMESPACES", "REMEDIATION_MAX_EVIDENCE_AGE",
      ]
      secret_env = []
      # remediate acts on throttle findings only: the others (pod.birth, and the remediation.result
      # findings remediate itself publishes) never reach it, and are not pushed only to be ignored.
      push_filter = "attributes.kind = \"cpu.throttle\""
    }
    "record" = {
      entry_point = "record"
      trigger     = "findings-push"
      env         = ["GOOGLE_CLOUD_PROJECT", "LOG_LEVEL", "FUNCTION_TIMEOUT_SECONDS", "KG_CLUSTER_NAME", "GKE_CLUSTER_NAME", "GKE_CLUSTER_LOCATION", "GKE_ENDPOINT"]
      secret_env  = []
      # record keeps every kind: throttle evidence, birth certificates and remediation decisions.
      # "" (no filter) rather than null, so a plan shows the value instead of leaving it to the provider.
      push_filter = ""
    }
    "health" = {
      entry_point = "health"
      trigger     = "none"
      env         = ["GOOGLE_CLOUD_PROJECT", "LOG_LEVEL", "FUNCTION_TIMEOUT_SECONDS"]
      secret_env  = []
    }
  }

  # Values of every variable in the contract. A null value is left out of the function's
  # environment (the code then applies its own default or treats the variable as absent).
  env_values = {
    GOOGLE_CLOUD_PROJECT            = var.project_id
    LOG_LEVEL                       = var.log_level
    PIXIE_CLUSTER_ID                = var.pixie_cluster_id
    PIXIE_CLOUD_ADDR                = var.pixie_cloud_address
    FINDINGS_TOPIC                  = google_pubsub_topic.findings.name
    KG_CLUSTER_NAME                 = coalesce(var.cluster.display_name, var.cluster.name)
    KG_NAMESPACES                   = length(var.namespaces) > 0 ? join(",", var.namespaces) : null
    OBSERVE_TIME_ZONE               = var.schedules.time_zone
    KG_BIRTH_PROBE                  = var.birth_probe
    GKE_CLUSTER_NAME                = var.cluster.name
    GKE_CLUSTER_LOCATION            = var.cluster.location
    GKE_ENDPOINT                    = var.cluster.dns_endpoint
    REMEDIATION_MODE                = var.remediation.mode
    REMEDIATION_MAX_STEP            = tostring(var.remediation.max_step)
    REMEDIATION_CEILING_MILLICORES  = tostring(var.remediation.ceiling_millicores)
    REMEDIATION_COOLDOWN            = var.remediation.cooldown
    REMEDIATION_MIN_WINDOWS         = tostring(var.remediation.min_windows)
    REMEDIATION_MAX_ACTIONS_PER_RUN = tostring(var.remediation.max_actions_per_run)
    REMEDIATION_RESIZE_IN_PLACE     = tostring(var.remediation.resize_in_place)
    REMEDIATION_DENIED_NAMESPACES   = length(var.remediation.denied_namespaces) > 0 ? join(",", var.remediation.denied_namespaces) : null
    REMEDIATION_MAX_EVIDENCE_AGE    = local.remediation_max_evidence_age
  }

  # How old a finding's window end may be when remediate acts on it: remediation.max_evidence_age,
  # or else three intervals of the throttle schedule ("*/N * * * *", validated): by then two newer
  # runs have described the workload (docs/deployment.md, "Evidence remediate acts on").
  remediation_max_evidence_age = coalesce(
    var.remediation.max_evidence_age,
    "${3 * tonumber(regex("^\\*/([0-9]+) ", trimspace(var.schedules.observe_throttle))[0])}m",
  )

  # Values that differ per function: the deployed timeout, which requests plan their deadline from,
  # and the function's own Scheduler schedule, which a scheduled run's window follows.
  function_env_values = {
    for name in keys(local.function_contract) : name => merge(local.env_values, {
      FUNCTION_TIMEOUT_SECONDS = tostring(local.function_sizing[name].timeout)
      OBSERVE_SCHEDULE         = lookup(local.schedule_of, name, null)
    })
  }

  # -------------------------------------------------------------------------------------------
  # Sizing, chosen per function (see the comments for why).
  # -------------------------------------------------------------------------------------------
  function_sizing = {
    # Observe: one scheduled run at a time. A run deploys a PxL probe, waits for the window's
    # data and decodes row batches, so 300 s leaves room over the largest window (240 s). It is
    # CPU-bound decoding, so one request per instance and a whole CPU. 256 MiB with V8's old space
    # capped at 128 MiB: an observe-throttle cycle at 5,000 containers (3 result tables of up to
    # 5,000 rows; the default row cap is 10,000 per table) peaks at 189 MiB RSS that way, against
    # 294 MiB with V8 sizing its heap itself (docs/benchmarks.md, observe cycle). observe-births
    # was not measured at that scale; its tables are bounded by the same row cap. Two instances
    # let a Scheduler retry overlap a slow run without queueing.
    "observe-throttle" = { memory = "256Mi", cpu = "1", timeout = 300, max_instances = 2, concurrency = 1, node_options = "--max-old-space-size=128" }
    "observe-births"   = { memory = "256Mi", cpu = "1", timeout = 300, max_instances = 2, concurrency = 1, node_options = "--max-old-space-size=128" }
    # Remediate: few findings, each decided against the cluster's current state. One request per
    # instance and at most three instances bound how many workloads change at once (blast
    # radius); 120 s covers the GKE lookups and patch retries within the push ack deadline.
    "remediate" = { memory = "256Mi", cpu = "1", timeout = 120, max_instances = 3, concurrency = 1, node_options = null }
    # Record: I/O-bound upserts of custom resources, so eight concurrent requests share one
    # instance; 60 s is plenty for a few API calls with retries.
    "record" = { memory = "256Mi", cpu = "1", timeout = 60, max_instances = 5, concurrency = 8, node_options = null }
    # Health: a cheap probe; one small instance is enough.
    "health" = { memory = "256Mi", cpu = "1", timeout = 10, max_instances = 1, concurrency = 4, node_options = null }
  }

  # -------------------------------------------------------------------------------------------
  # Names
  # -------------------------------------------------------------------------------------------
  function_names = { for name in keys(local.function_contract) : name => "${var.name_prefix}-${name}" }

  scheduled_functions = toset([for name, f in local.function_contract : name if f.trigger == "scheduler"])
  pushed_functions    = toset([for name, f in local.function_contract : name if f.trigger == "findings-push"])

  findings_topic_name    = "${var.name_prefix}-kernel-findings"
  dead_letter_topic_name = "${var.name_prefix}-kernel-findings-dead-letter"

  bigquery_dataset_id = replace("${var.name_prefix}_kernel_gossip", "-", "_")
  bigquery_table_id   = "findings"

  dist_dir = coalesce(var.functions_dist_dir, "${path.module}/../../../dist/functions")

  # The findings schema lives in the repository (shared/findings/finding.avsc) and is the
  # contract the code and the tests check against; the topic enforces exactly this text.
  findings_schema_path = "${path.module}/../../../shared/findings/finding.avsc"
  # BigQuery schema derived from the Avro schema by dev/terraform/bq-schema.ts; a test fails
  # when the two disagree, so the BigQuery subscription can write with use_topic_schema.
  findings_bigquery_schema_path = "${path.module}/findings.bigquery.json"

  labels = merge({ app = "kernel-gossip" }, var.labels)

  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

data "google_project" "this" {
  project_id = var.project_id
}
