output "findings_topic" {
  description = "Name of the findings topic (schema-enforced, Avro JSON); subscribe to it to get every finding."
  value       = google_pubsub_topic.findings.name
}

output "findings_topic_id" {
  description = "Full ID of the findings topic (projects/P/topics/T)."
  value       = google_pubsub_topic.findings.id
}

output "dead_letter_topic" {
  description = "Name of the topic that receives findings no subscriber could take."
  value       = google_pubsub_topic.dead_letter.name
}

output "subscriptions" {
  description = "Subscription names: push subscriptions of remediate and record, the BigQuery subscription and the dead-letter hold subscription."
  value = {
    remediate   = google_pubsub_subscription.push["remediate"].name
    record      = google_pubsub_subscription.push["record"].name
    bigquery    = google_pubsub_subscription.bigquery.name
    dead_letter = google_pubsub_subscription.dead_letter.name
  }
}

output "function_urls" {
  description = "URL of each function (internal ingress: reachable from Scheduler, Pub/Sub and the project's VPC only)."
  value       = { for name, f in google_cloudfunctions2_function.function : name => f.service_config[0].uri }
}

output "function_service_accounts" {
  description = "Runtime service account e-mail of each function. The remediate and record e-mails are the Kubernetes user names the RBAC in k8s/ binds."
  value       = { for name, sa in google_service_account.function : name => sa.email }
}

output "scheduler_jobs" {
  description = "Cloud Scheduler job names of the observe functions."
  value       = { for name, job in google_cloud_scheduler_job.observe : name => job.name }
}

output "findings_table" {
  description = "BigQuery table holding the history of findings (project.dataset.table)."
  value       = "${google_bigquery_table.findings.project}.${google_bigquery_table.findings.dataset_id}.${google_bigquery_table.findings.table_id}"
}

output "pixie_api_key_secret" {
  description = "Secret Manager secret holding the Pixie API key (add versions by raising pixie_api_key_version)."
  value       = google_secret_manager_secret.pixie_api_key.id
}

output "dashboard_url" {
  description = "Link to the Cloud Monitoring dashboard."
  value       = "https://console.cloud.google.com/monitoring/dashboards/builder/${element(split("/", google_monitoring_dashboard.kernel_gossip.id), length(split("/", google_monitoring_dashboard.kernel_gossip.id)) - 1)}?project=${var.project_id}"
}

output "kubernetes_rbac" {
  description = "Every manifest of k8s/rbac/ bound to this installation's remediate and record identities, plus the apply RoleBindings of remediation.apply_namespaces. Apply with: terraform output -raw kubernetes_rbac | kubectl apply -f -"
  value       = local.kubernetes_rbac

  precondition {
    condition     = alltrue([for placeholder in keys(local.rbac_identities) : strcontains(join("\n", values(local.rbac_sources)), placeholder)])
    error_message = "k8s/rbac/*.yaml no longer name the subjects this module replaces with the real service account e-mails (${join(", ", keys(local.rbac_identities))})."
  }
}
