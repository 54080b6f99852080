# The bundles `npm run build` writes to dist/functions/<name>/ are zipped and uploaded under a
# name that carries the zip's SHA-256: a changed bundle gets a new object name, and a new
# object name is what makes the function rebuild and redeploy (same name = no redeploy).

resource "google_storage_bucket" "sources" {
  project  = var.project_id
  name     = "${var.project_id}-${var.name_prefix}-function-sources"
  location = var.region
  labels   = local.labels

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Only build inputs live here; destroying the installation may delete them.
  force_destroy = true

  depends_on = [google_project_service.enabled]
}

data "archive_file" "function" {
  for_each = local.function_contract

  type        = "zip"
  source_dir  = "${local.dist_dir}/${each.key}"
  output_path = "${path.root}/.terraform/kernel-gossip/${each.key}.zip"

  lifecycle {
    precondition {
      condition     = fileexists("${local.dist_dir}/${each.key}/index.js") && fileexists("${local.dist_dir}/${each.key}/package.json")
      error_message = "No bundle for ${each.key} in ${local.dist_dir}/${each.key}: run `npm ci && npm run build` at the repository root first."
    }
  }
}

resource "google_storage_bucket_object" "function_source" {
  for_each = local.function_contract

  bucket       = google_storage_bucket.sources.name
  name         = "${each.key}/${data.archive_file.function[each.key].output_sha256}.zip"
  source       = data.archive_file.function[each.key].output_path
  content_type = "application/zip"
}

# Function images, kept in a repository of our own so the build identity can be granted
# write access to just this repository.
resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  format        = "DOCKER"
  description   = "Images of the kernel-gossip functions, built by Cloud Build."
  labels        = local.labels

  depends_on = [google_project_service.enabled]
}
