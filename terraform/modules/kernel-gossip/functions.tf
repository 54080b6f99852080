resource "google_cloudfunctions2_function" "function" {
  for_each = local.function_contract

  project     = var.project_id
  location    = var.region
  name        = local.function_names[each.key]
  description = "kernel-gossip ${each.key}"
  labels      = local.labels

  build_config {
    runtime         = "nodejs22"
    entry_point     = each.value.entry_point
    service_account = google_service_account.build.id
    # The bundle is already built; the buildpack only installs the Functions Framework.
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.function_source[each.key].name
      }
    }
  }

  service_config {
    available_memory                 = local.function_sizing[each.key].memory
    available_cpu                    = local.function_sizing[each.key].cpu
    timeout_seconds                  = local.function_sizing[each.key].timeout
    max_instance_count               = local.function_sizing[each.key].max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = local.function_sizing[each.key].concurrency
    service_account_email            = google_service_account.function[each.key].email
    # Only Scheduler and Pub/Sub in this project (internal sources) may reach the functions,
    # and each of them still needs an OIDC token accepted by run.invoker.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true

    # The contract's variables, and NODE_OPTIONS where the sizing bounds V8's heap (set by the
    # deployment, not read by our config).
    environment_variables = merge(
      {
        for key in each.value.env : key => local.function_env_values[each.key][key] if local.function_env_values[each.key][key] != null
      },
      { for key, value in { NODE_OPTIONS = local.function_sizing[each.key].node_options } : key => value if value != null },
    )

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secret_env)
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.pixie_api_key.secret_id
        # Pinned to the version Terraform wrote: a secret env var is read when an instance
        # starts, so "latest" would let instances of one revision disagree after a rotation.
        version = google_secret_manager_secret_version.pixie_api_key.version
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_secret_manager_secret_iam_member.observe_reads_pixie_key,
    google_project_iam_member.build_builder,
    google_artifact_registry_repository_iam_member.build_pushes_images,
    google_storage_bucket_iam_member.build_reads_sources,
  ]
}
