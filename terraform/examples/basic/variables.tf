variable "project_id" {
  type        = string
  description = "Google Cloud project to deploy kernel-gossip into."
}

variable "region" {
  type        = string
  default     = "europe-west1"
  description = "Region of the functions and jobs."
}

variable "cluster_name" {
  type        = string
  description = "Name of the GKE cluster running Pixie."
}

variable "cluster_location" {
  type        = string
  description = "Location (region or zone) of the GKE cluster."
}

variable "cluster_dns_endpoint" {
  type        = string
  default     = null
  description = "DNS endpoint of the cluster's control plane (*.gke.goog), for private clusters; null uses the cluster endpoint."
}

variable "pixie_cluster_id" {
  type        = string
  description = "Pixie cluster ID (UUID) from `px get viziers`."
}

variable "pixie_api_key" {
  type        = string
  sensitive   = true
  ephemeral   = true
  description = "Pixie API key; pass it with TF_VAR_pixie_api_key. Write-only: it never reaches plan or state."
}

variable "pixie_api_key_version" {
  type        = number
  default     = 1
  description = "Raise by one to store a new Pixie API key."
}

variable "namespaces" {
  type        = list(string)
  default     = []
  description = "Namespaces the observe functions report on; empty means all."
}

variable "remediation_mode" {
  type        = string
  default     = "recommend"
  description = "off, recommend (publish what would be done) or apply (change CPU limits)."
}

variable "remediation_apply_namespaces" {
  type        = list(string)
  default     = []
  description = "Namespaces where the remediator may change workloads (RoleBindings in the kubernetes_rbac output)."
}

variable "alert_email" {
  type        = string
  default     = null
  description = "E-mail address that receives kernel-gossip alerts; null sends none."
}

# Null leaves each of the following to the module's default (variables.tf of the module).

variable "birth_probe" {
  type        = string
  default     = null
  description = "pod_birth_lite (the module's default, always-on) or pod_birth (full certificate, at a cost on every syscall of the nodes)."
}

variable "log_level" {
  type        = string
  default     = null
  description = "Lowest log severity the functions write (DEBUG ... CRITICAL); null keeps the module's INFO."
}

variable "remediation_cooldown" {
  type        = string
  default     = null
  description = "Minimum time between two changes of one workload (90s, 30m, 1h); null keeps the module's 1h."
}

variable "remediation_max_actions_per_run" {
  type        = number
  default     = null
  description = "Most changes applied for one observe window (1-50); null keeps the module's 10."
}

variable "remediation_resize_in_place" {
  type        = bool
  default     = null
  description = "Also resize running pods in place (Kubernetes 1.33+); null keeps the module's false."
}

variable "findings_max_delivery_attempts" {
  type        = number
  default     = null
  description = "Deliveries of one finding before it is dead-lettered (5-100); null keeps the module's 10."
}
