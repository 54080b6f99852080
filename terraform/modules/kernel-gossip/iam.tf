# Least privilege, granted on the resource wherever the resource has its own IAM policy. The
# two project-level grants are those Google only offers at project level; each says why.

# --- Observe functions: read the Pixie key, publish findings -------------------------------

resource "google_secret_manager_secret_iam_member" "observe_reads_pixie_key" {
  for_each = local.scheduled_functions

  project   = var.project_id
  secret_id = google_secret_manager_secret.pixie_api_key.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.key].member
}

# observe-* publish findings; remediate publishes remediation.result findings.
resource "google_pubsub_topic_iam_member" "publishes_findings" {
  for_each = toset(concat(tolist(local.scheduled_functions), ["remediate"]))

  project = var.project_id
  topic   = google_pubsub_topic.findings.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.function[each.key].member
}

# --- remediate and record: reach the cluster -----------------------------------------------

# GKE has no per-cluster IAM policy, so this is a project-level grant. clusterViewer only lets
# the identity look the cluster up and authenticate to it; everything it may do inside the
# cluster comes from the RBAC in k8s/ bound to this service account's e-mail.
resource "google_project_iam_member" "cluster_viewer" {
  for_each = local.pushed_functions

  project = var.project_id
  role    = "roles/container.clusterViewer"
  member  = google_service_account.function[each.key].member
}

# --- Callers: Scheduler invokes observe-*, Pub/Sub push invokes remediate and record --------

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes" {
  for_each = local.scheduled_functions

  project  = var.project_id
  location = var.region
  # A kebab-case function name is also the name of the Cloud Run service behind it.
  name   = google_cloudfunctions2_function.function[each.key].name
  role   = "roles/run.invoker"
  member = google_service_account.scheduler.member
}

resource "google_cloud_run_v2_service_iam_member" "push_invokes" {
  for_each = local.pushed_functions

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.push.member
}

# --- Pub/Sub service agent ------------------------------------------------------------------

# Mints the OIDC tokens of push requests. Needed for projects whose Pub/Sub service agent was
# created on or before 2021-04-08; harmless (and scoped to this one account) for newer ones.
resource "google_service_account_iam_member" "pubsub_agent_signs_push_tokens" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent

  depends_on = [google_project_service.enabled]
}

# Forwards undeliverable messages to the dead-letter topic.
resource "google_pubsub_topic_iam_member" "pubsub_agent_publishes_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

# Acknowledges the forwarded message on the source subscription.
resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks_dead_letters" {
  for_each = merge(
    { for name in local.pushed_functions : name => google_pubsub_subscription.push[name].name },
    { bigquery = google_pubsub_subscription.bigquery.name },
  )

  project      = var.project_id
  subscription = each.value
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# Writes findings rows into the history table.
resource "google_bigquery_table_iam_member" "pubsub_agent_writes_findings" {
  project    = var.project_id
  dataset_id = google_bigquery_table.findings.dataset_id
  table_id   = google_bigquery_table.findings.table_id
  role       = "roles/bigquery.dataEditor"
  member     = local.pubsub_service_agent
}

# --- Function builds ------------------------------------------------------------------------

# Cloud Build writes its logs at project level and the builder role is the documented minimum
# for a user-managed build service account; the images go only to this module's repository.
resource "google_project_iam_member" "build_builder" {
  project = var.project_id
  role    = "roles/cloudbuild.builds.builder"
  member  = google_service_account.build.member
}

resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

resource "google_storage_bucket_iam_member" "build_reads_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}
