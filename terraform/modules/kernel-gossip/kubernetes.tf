# The Kubernetes side of the remediator's and recorder's rights, rendered for this installation:
# every manifest of k8s/rbac/ with its placeholder subject replaced by the real service account
# e-mail (GKE maps a Google service account to the Kubernetes User named by its e-mail), plus one
# RoleBinding of the apply role per namespace in remediation.apply_namespaces. Terraform does not
# talk to the cluster: apply it with `terraform output -raw kubernetes_rbac | kubectl apply -f -`.

locals {
  k8s_rbac_dir = "${path.module}/../../../k8s/rbac"

  # Placeholder subject in k8s/rbac/*.yaml => the identity that replaces it.
  rbac_identities = {
    "kernel-gossip-remediator@PROJECT_ID.iam.gserviceaccount.com" = google_service_account.function["remediate"].email
    "kernel-gossip-recorder@PROJECT_ID.iam.gserviceaccount.com"   = google_service_account.function["record"].email
  }

  rbac_sources = { for f in sort(tolist(fileset(local.k8s_rbac_dir, "*.yaml"))) : f => file("${local.k8s_rbac_dir}/${f}") }

  rbac_rendered = [for f, text in local.rbac_sources : replace(
    replace(text, "kernel-gossip-remediator@PROJECT_ID.iam.gserviceaccount.com", local.rbac_identities["kernel-gossip-remediator@PROJECT_ID.iam.gserviceaccount.com"]),
    "kernel-gossip-recorder@PROJECT_ID.iam.gserviceaccount.com", local.rbac_identities["kernel-gossip-recorder@PROJECT_ID.iam.gserviceaccount.com"]
  )]

  rbac_apply_bindings = [for ns in var.remediation.apply_namespaces : yamlencode({
    apiVersion = "rbac.authorization.k8s.io/v1"
    kind       = "RoleBinding"
    metadata = {
      name      = "kernel-gossip-remediator-apply"
      namespace = ns
      labels    = { "app.kubernetes.io/part-of" = "kernel-gossip" }
    }
    roleRef  = { apiGroup = "rbac.authorization.k8s.io", kind = "ClusterRole", name = "kernel-gossip-remediator-apply" }
    subjects = [{ apiGroup = "rbac.authorization.k8s.io", kind = "User", name = google_service_account.function["remediate"].email }]
  })]

  kubernetes_rbac = join("\n---\n", concat(local.rbac_rendered, local.rbac_apply_bindings))
}
