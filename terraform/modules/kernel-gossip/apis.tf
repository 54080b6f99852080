locals {
  required_apis = toset([
    "artifactregistry.googleapis.com", # function images
    "bigquery.googleapis.com",         # findings history
    "cloudbuild.googleapis.com",       # builds the function images from the uploaded bundles
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "container.googleapis.com", # the remediator and recorder look the cluster up
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com", # gen2 functions run on Cloud Run
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "enabled" {
  for_each = var.enable_apis ? local.required_apis : toset([])

  project = var.project_id
  service = each.value
  # Other workloads in the project may use the same APIs: never turn them off on destroy.
  disable_on_destroy         = false
  disable_dependent_services = false
}
