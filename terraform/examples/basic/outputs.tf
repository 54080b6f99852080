output "findings_topic" {
  description = "Findings topic name."
  value       = module.kernel_gossip.findings_topic
}

output "subscriptions" {
  description = "Subscription names."
  value       = module.kernel_gossip.subscriptions
}

output "function_urls" {
  description = "Function URLs."
  value       = module.kernel_gossip.function_urls
}

output "function_service_accounts" {
  description = "Function service accounts; bind the remediate and record e-mails with the RBAC in k8s/."
  value       = module.kernel_gossip.function_service_accounts
}

output "dashboard_url" {
  description = "Cloud Monitoring dashboard."
  value       = module.kernel_gossip.dashboard_url
}

output "kubernetes_rbac" {
  description = "RBAC for the remediate and record identities: terraform output -raw kubernetes_rbac | kubectl apply -f -"
  value       = module.kernel_gossip.kubernetes_rbac
}
