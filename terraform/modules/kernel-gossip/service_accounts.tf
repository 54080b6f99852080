# One identity per function and one per caller, so each grant below names exactly who needs it.

resource "google_service_account" "function" {
  for_each = local.function_contract

  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.key}"
  display_name = "kernel-gossip ${each.key} function"
  description  = "Runtime identity of the ${local.function_names[each.key]} function."

  depends_on = [google_project_service.enabled]
}

# Cloud Scheduler signs its OIDC tokens as this account when it calls the observe functions.
resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-scheduler"
  display_name = "kernel-gossip scheduler invoker"
  description  = "Identity in the OIDC tokens Cloud Scheduler sends to the observe functions."

  depends_on = [google_project_service.enabled]
}

# Pub/Sub signs the push requests to remediate and record as this account.
resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-findings-push"
  display_name = "kernel-gossip findings push invoker"
  description  = "Identity in the OIDC tokens Pub/Sub sends with each pushed finding."

  depends_on = [google_project_service.enabled]
}

# Cloud Build builds the function images as this account instead of the Compute default one.
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-function-build"
  display_name = "kernel-gossip function build"
  description  = "Identity of the Cloud Build runs that turn the uploaded bundles into function images."

  depends_on = [google_project_service.enabled]
}
