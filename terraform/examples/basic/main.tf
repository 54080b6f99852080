# The smallest root that deploys kernel-gossip: one GKE cluster with Pixie, defaults elsewhere.
#
#   npm ci && npm run build                      # from the repository root: dist/functions/*
#   export TF_VAR_pixie_api_key=px-api-...       # never written to a file, plan or state
#   terraform init && terraform apply            # or: tofu init && tofu apply

provider "google" {
  project = var.project_id
  region  = var.region
}

module "kernel_gossip" {
  source = "../../modules/kernel-gossip"

  project_id = var.project_id
  region     = var.region

  cluster = {
    name         = var.cluster_name
    location     = var.cluster_location
    dns_endpoint = var.cluster_dns_endpoint
  }

  pixie_cluster_id      = var.pixie_cluster_id
  pixie_api_key         = var.pixie_api_key
  pixie_api_key_version = var.pixie_api_key_version

  namespaces = var.namespaces

  birth_probe = var.birth_probe
  log_level   = var.log_level

  remediation = {
    mode                = var.remediation_mode
    apply_namespaces    = var.remediation_apply_namespaces
    cooldown            = var.remediation_cooldown
    max_actions_per_run = var.remediation_max_actions_per_run
    resize_in_place     = var.remediation_resize_in_place
  }

  findings = {
    max_delivery_attempts = var.findings_max_delivery_attempts
  }

  alerts = {
    email = var.alert_email
  }
}
