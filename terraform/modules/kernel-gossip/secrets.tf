resource "google_secret_manager_secret" "pixie_api_key" {
  project   = var.project_id
  secret_id = "${var.name_prefix}-pixie-api-key"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

# The key is written with the write-only argument: it reaches Secret Manager but never the plan
# or the state. Terraform cannot diff a write-only value, so a new key is stored only when
# pixie_api_key_version changes.
resource "google_secret_manager_secret_version" "pixie_api_key" {
  secret                 = google_secret_manager_secret.pixie_api_key.id
  secret_data_wo         = var.pixie_api_key
  secret_data_wo_version = var.pixie_api_key_version
}
