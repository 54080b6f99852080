# The Kubernetes side of the remediator's and recorder's rights, rendered for this installation:
# the manifests of k8s/rbac/ with the subject set to the real service account e-mails (GKE maps a
# Google service account to the Kubernetes User named by its e-mail), plus one RoleBinding of the
# apply role per namespace in remediation.apply_namespaces. Terraform does not talk to the
# cluster: apply it with `terraform output -raw kubernetes_rbac | kubectl apply -f -`.

locals {
  k8s_rbac_dir = "${path.module}/../../../k8s/rbac"
  # The subject line k8s/rbac/remediator.yaml carries for the remediator's identity.
  rbac_subject_placeholder = "    name: kernel-gossip-remediator@PROJECT_ID.iam.gserviceaccount.com"
  rbac_remediator_yaml     = file("${local.k8s_rbac_dir}/remediator.yaml")

  # record writes KernelWhisper / PodBirthCertificate objects: a subset of the remediator's
  # cluster role, so it is bound to the same role (k8s/rbac/remediator.yaml says so).
  rbac_subjects = join("\n", [
    "    name: ${google_service_account.function["remediate"].email}",
    "  - apiGroup: rbac.authorization.k8s.io",
    "    kind: User",
    "    name: ${google_service_account.function["record"].email}",
  ])

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

  kubernetes_rbac = join("\n---\n", concat(
    [
      replace(local.rbac_remediator_yaml, local.rbac_subject_placeholder, local.rbac_subjects),
      file("${local.k8s_rbac_dir}/remediator-apply.yaml"),
      file("${local.k8s_rbac_dir}/guard-kube-system.yaml"),
    ],
    local.rbac_apply_bindings,
  ))
}
