# ---------------------------------------------------------------------------------------------
# Where kernel-gossip runs
# ---------------------------------------------------------------------------------------------

variable "project_id" {
  type        = string
  description = "Google Cloud project that receives every kernel-gossip resource (functions, topics, jobs, dashboard)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 characters: lowercase letters, digits, hyphens; starts with a letter)."
  }
}

variable "region" {
  type        = string
  description = "Region of the functions, Scheduler jobs, source bucket, Artifact Registry repository and BigQuery dataset, e.g. europe-west1."

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1 or us-central1."
  }
}

variable "name_prefix" {
  type        = string
  default     = "kg"
  description = "Prefix of every resource name (functions, service accounts, topics), so that several installations can share a project."

  validation {
    # Service account IDs are at most 30 characters; the longest suffix is "-observe-throttle" (17).
    condition     = can(regex("^[a-z][a-z0-9-]{0,10}[a-z0-9]$|^[a-z]$", var.name_prefix))
    error_message = "name_prefix must be 1-12 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "labels" {
  type        = map(string)
  default     = {}
  description = "Extra labels put on every resource that takes labels (merged over app = kernel-gossip)."
}

variable "enable_apis" {
  type        = bool
  default     = true
  description = "Enable the Google Cloud APIs kernel-gossip needs. Set false when a platform team manages APIs; they are never disabled on destroy."
}

# ---------------------------------------------------------------------------------------------
# The GKE cluster and Pixie
# ---------------------------------------------------------------------------------------------

variable "cluster" {
  type = object({
    name     = string
    location = string
    # DNS endpoint of the control plane (*.gke.goog); reaches private clusters without VPC egress.
    dns_endpoint = optional(string)
    # The name kernel-gossip puts in findings; defaults to the GKE cluster name.
    display_name = optional(string)
  })
  description = "The GKE cluster watched and remediated: name, location (region or zone), optional DNS endpoint and optional display name used in findings."

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$", var.cluster.name))
    error_message = "cluster.name must be a GKE cluster name (lowercase letters, digits, hyphens; at most 40 characters)."
  }
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+(-[a-z])?$", var.cluster.location))
    error_message = "cluster.location must be a region (europe-west1) or a zone (europe-west1-b)."
  }
  validation {
    condition     = var.cluster.dns_endpoint == null || can(regex("\\.gke\\.goog$", coalesce(var.cluster.dns_endpoint, "x")))
    error_message = "cluster.dns_endpoint must be the control plane's DNS endpoint ending in .gke.goog (or null to use the cluster endpoint)."
  }
}

variable "pixie_cluster_id" {
  type        = string
  description = "Pixie (Vizier) cluster ID, a UUID shown by `px get viziers`."

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.pixie_cluster_id))
    error_message = "pixie_cluster_id must be a lowercase UUID such as 7f3c2a10-0b1e-4c55-9a7d-1e2f3a4b5c6d."
  }
}

variable "pixie_cloud_address" {
  type        = string
  default     = "work.withpixie.ai:443"
  description = "Pixie Cloud gRPC address (host:port); change it for a self-hosted Pixie Cloud."

  validation {
    condition     = can(regex("^[A-Za-z0-9.-]+:[0-9]{1,5}$", var.pixie_cloud_address))
    error_message = "pixie_cloud_address must be host:port, e.g. work.withpixie.ai:443."
  }
}

variable "pixie_api_key" {
  type        = string
  sensitive   = true
  ephemeral   = true
  nullable    = false
  description = "Pixie API key (`px api-key create`). Write-only: it goes to Secret Manager and never into the plan or state. Pass it with TF_VAR_pixie_api_key."

  validation {
    condition     = length(trimspace(var.pixie_api_key)) > 0
    error_message = "pixie_api_key must not be empty."
  }
}

variable "pixie_api_key_version" {
  type        = number
  default     = 1
  description = "Increase by one to store a new Pixie API key: Terraform cannot see a write-only value change, so this number tells it to write a new secret version."

  validation {
    condition     = var.pixie_api_key_version >= 1 && floor(var.pixie_api_key_version) == var.pixie_api_key_version
    error_message = "pixie_api_key_version must be a whole number of at least 1."
  }
}

# ---------------------------------------------------------------------------------------------
# What is observed, when
# ---------------------------------------------------------------------------------------------

variable "namespaces" {
  type        = list(string)
  default     = []
  description = "Kubernetes namespaces the observe functions report on; empty means every namespace. Remediation is separately opt-in per namespace (label kernel.gossip.io/remediation=enabled) and never touches kube-system."

  validation {
    condition     = alltrue([for ns in var.namespaces : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", ns))])
    error_message = "namespaces must hold Kubernetes namespace names (RFC 1123 labels)."
  }
}

variable "schedules" {
  type = object({
    observe_throttle = optional(string, "*/5 * * * *")
    observe_births   = optional(string, "*/10 * * * *")
    time_zone        = optional(string, "Etc/UTC")
  })
  default     = {}
  description = "Schedules of the observe functions, \"*/N * * * *\" (every N minutes; N one of 1, 2, 3, 4, 5, 6, 10, 12), and their time zone (IANA name). Each scheduled run reads the N minutes since the job's previous due time (observe-throttle also the two intervals before, for the throttle streak), so consecutive runs tile time."

  # Evenly spaced runs (N divides 60) make every window N minutes long in any time zone and across
  # DST changes; N under half the probes' 30-minute TTL (pxl-scripts/*: UpsertTracepoint '30m')
  # keeps the probes deployed through one missed run. The list is shared/settings.ts'
  # SCHEDULE_STEP_MINUTES (test/integration/terraform/settings.test.ts checks both).
  validation {
    condition = alltrue([
      for s in [var.schedules.observe_throttle, var.schedules.observe_births] :
      can(regex("^\\*/(1|2|3|4|5|6|10|12) \\* \\* \\* \\*$", s))
    ])
    error_message = "schedules.observe_* must be \"*/N * * * *\" with N one of 1, 2, 3, 4, 5, 6, 10, 12 (evenly spaced runs, and a missed run must not outlive the probes' 30-minute TTL)."
  }
  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", var.schedules.time_zone))
    error_message = "schedules.time_zone must be an IANA time zone name such as Etc/UTC or Europe/Berlin."
  }
}

variable "birth_probe" {
  type = string
  # Null (e.g. from a root that leaves the choice to the module) means the default.
  nullable    = false
  default     = "pod_birth_lite"
  description = "The pod birth probe observe-births deploys on every node. pod_birth_lite (default, always-on): the birth cascade without cgroup limit writes and without the runtime's syscall count, so no BPF program runs on every write or syscall of the node. pod_birth: the full certificate, at about 150 ns of CPU on every syscall of every process of the node while it is deployed (docs/benchmarks.md); choose it for a rollout you want to see in full, then switch back."

  validation {
    condition     = contains(["pod_birth_lite", "pod_birth"], var.birth_probe)
    error_message = "birth_probe must be pod_birth_lite or pod_birth."
  }
}

variable "log_level" {
  type = string
  # Null (e.g. from a root that leaves the choice to the module) means the default.
  nullable    = false
  default     = "INFO"
  description = "Lowest log severity the functions write (DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL), as shared/log.ts knows them."

  validation {
    condition     = contains(["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL."
  }
}

# ---------------------------------------------------------------------------------------------
# Remediation guardrails
# ---------------------------------------------------------------------------------------------

variable "remediation" {
  type = object({
    # off: decide nothing; recommend: publish what would be done; apply: patch the workload.
    mode = optional(string, "recommend")
    # Largest factor a CPU limit may grow by in one step (1.01-2).
    max_step = optional(number, 2)
    # Absolute ceiling of a CPU limit set by kernel-gossip, in millicores.
    ceiling_millicores = optional(number, 4000)
    # Minimum time between two changes of one workload: a whole number and one unit (90s, 30m, 1h).
    cooldown = optional(string, "1h")
    # Consecutive throttled schedule intervals of observe-throttle required before acting (1-3).
    min_windows = optional(number, 3)
    # Most changes applied for one observe window across the cluster.
    max_actions_per_run = optional(number, 10)
    # Also resize running pods in place (pods/resize, Kubernetes 1.33+), not only the workload.
    resize_in_place = optional(bool, false)
    # Namespaces never touched, in addition to kube-system.
    denied_namespaces = optional(list(string), [])
    # Namespaces where the remediator may patch workloads: the kubernetes_rbac output binds
    # k8s/rbac/remediator-apply.yaml there. Each must also opt in with its label.
    apply_namespaces = optional(list(string), [])
    # Oldest evidence acted on: a finding whose window ended longer ago than this is refused
    # (stale). Unset: three intervals of schedules.observe_throttle (15m for the default).
    max_evidence_age = optional(string)
  })
  default     = {}
  description = "Remediation mode (off | recommend | apply; default recommend), guardrails (step factor, ceiling, cooldown, minimum windows, actions per run, oldest evidence acted on) and the namespaces where the remediator gets write access."

  validation {
    condition     = contains(["off", "recommend", "apply"], var.remediation.mode)
    error_message = "remediation.mode must be off, recommend or apply."
  }
  validation {
    # The analysis never recommends more than doubling a limit (shared/settings.ts), so a larger step would never be taken.
    condition     = var.remediation.max_step >= 1.01 && var.remediation.max_step <= 2
    error_message = "remediation.max_step must be from 1.01 to 2 (the analysis recommends at most doubling a limit)."
  }
  validation {
    # The analysis recommends at most 16 cores (shared/settings.ts), so a higher ceiling would never be reached.
    condition     = var.remediation.ceiling_millicores >= 10 && var.remediation.ceiling_millicores <= 16000 && floor(var.remediation.ceiling_millicores) == var.remediation.ceiling_millicores
    error_message = "remediation.ceiling_millicores must be a whole number from 10 to 16000."
  }
  validation {
    # The one duration grammar of the code (shared/duration.ts, DURATION_PATTERN): a whole number and one unit.
    condition     = can(regex("^([0-9]+)(ms|s|m|h)$", var.remediation.cooldown))
    error_message = "remediation.cooldown must be a whole number and one unit (ms, s, m or h), such as 90s, 30m or 1h."
  }
  validation {
    # Unset, or 1m to 24h (shared/settings.ts, DURATION_SETTINGS): younger than a minute refuses
    # findings still in flight; older than a day is evidence no scheduled run would still stand by.
    # Same grammar as the cooldown; compared in whole milliseconds so no unit rounds.
    condition = var.remediation.max_evidence_age == null || try(
      tonumber(regex("^([0-9]+)(ms|s|m|h)$", var.remediation.max_evidence_age)[0]) * lookup({ ms = 1, s = 1000, m = 60000, h = 3600000 }, regex("^([0-9]+)(ms|s|m|h)$", var.remediation.max_evidence_age)[1]) >= 60000 &&
      tonumber(regex("^([0-9]+)(ms|s|m|h)$", var.remediation.max_evidence_age)[0]) * lookup({ ms = 1, s = 1000, m = 60000, h = 3600000 }, regex("^([0-9]+)(ms|s|m|h)$", var.remediation.max_evidence_age)[1]) <= 86400000,
      false
    )
    error_message = "remediation.max_evidence_age must be a whole number and one unit (ms, s, m or h) from 1m to 24h, such as 15m."
  }
  validation {
    # observe-throttle reads 3 schedule intervals, so a finding's streak is never longer (shared/settings.ts).
    condition     = var.remediation.min_windows >= 1 && var.remediation.min_windows <= 3 && floor(var.remediation.min_windows) == var.remediation.min_windows
    error_message = "remediation.min_windows must be a whole number from 1 to 3 (observe-throttle reads 3 schedule intervals)."
  }
  validation {
    condition = alltrue([
      for ns in var.remediation.apply_namespaces : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", ns)) && ns != "kube-system"
    ])
    error_message = "remediation.apply_namespaces must hold namespace names, and never kube-system."
  }
  validation {
    condition     = alltrue([for ns in var.remediation.denied_namespaces : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", ns))])
    error_message = "remediation.denied_namespaces must hold Kubernetes namespace names."
  }
  validation {
    condition     = var.remediation.max_actions_per_run >= 1 && var.remediation.max_actions_per_run <= 50 && floor(var.remediation.max_actions_per_run) == var.remediation.max_actions_per_run
    error_message = "remediation.max_actions_per_run must be a whole number from 1 to 50."
  }
}

# ---------------------------------------------------------------------------------------------
# Findings delivery and history
# ---------------------------------------------------------------------------------------------

variable "findings" {
  type = object({
    # How long the topic keeps messages, so a subscriber can seek back (600s to 2678400s).
    message_retention = optional(string, "604800s")
    # Deliveries of one message before it goes to the dead-letter topic (5-100).
    max_delivery_attempts = optional(number, 10)
    # Days the BigQuery findings table keeps each daily partition; null keeps them forever.
    bigquery_partition_expiration_days = optional(number)
    # Protects the findings history table from `terraform destroy`.
    bigquery_deletion_protection = optional(bool, true)
  })
  default     = {}
  description = "Findings topic retention, dead-letter threshold and BigQuery history settings."

  validation {
    condition = can(regex("^[0-9]+s$", var.findings.message_retention)) && (
      tonumber(trimsuffix(var.findings.message_retention, "s")) >= 600 &&
      tonumber(trimsuffix(var.findings.message_retention, "s")) <= 2678400
    )
    error_message = "findings.message_retention must be seconds with an s suffix, from 600s (10 minutes) to 2678400s (31 days)."
  }
  validation {
    condition     = var.findings.max_delivery_attempts >= 5 && var.findings.max_delivery_attempts <= 100
    error_message = "findings.max_delivery_attempts must be from 5 to 100 (Pub/Sub's limits)."
  }
  validation {
    condition     = var.findings.bigquery_partition_expiration_days == null || coalesce(var.findings.bigquery_partition_expiration_days, 1) >= 1
    error_message = "findings.bigquery_partition_expiration_days must be at least 1, or null to keep partitions forever."
  }
}

# ---------------------------------------------------------------------------------------------
# Alerts
# ---------------------------------------------------------------------------------------------

variable "alerts" {
  type = object({
    enabled = optional(bool, true)
    # Existing Cloud Monitoring notification channel IDs (projects/P/notificationChannels/N).
    notification_channels = optional(list(string), [])
    # Creates an e-mail notification channel for this address when set.
    email = optional(string)
    # Failing runs (5xx answers or probe.failed events) tolerated in the window before alerting.
    failing_runs_threshold = optional(number, 0)
    # Window over which failing runs and dead letters are counted.
    window = optional(string, "600s")
  })
  default     = {}
  description = "Alerting on dead-lettered findings and failing function runs: on/off, notification channels, optional e-mail, threshold and window."

  validation {
    condition     = alltrue([for c in var.alerts.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "alerts.notification_channels must be channel IDs of the form projects/PROJECT/notificationChannels/ID."
  }
  validation {
    condition     = var.alerts.email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", coalesce(var.alerts.email, "x")))
    error_message = "alerts.email must be an e-mail address or null."
  }
  validation {
    condition     = var.alerts.failing_runs_threshold >= 0
    error_message = "alerts.failing_runs_threshold must be 0 or more."
  }
  validation {
    condition     = can(regex("^[0-9]+s$", var.alerts.window)) && tonumber(trimsuffix(var.alerts.window, "s")) >= 60
    error_message = "alerts.window must be seconds with an s suffix, at least 60s."
  }
}

# ---------------------------------------------------------------------------------------------
# Source of the functions
# ---------------------------------------------------------------------------------------------

variable "functions_dist_dir" {
  type        = string
  default     = null
  description = "Folder holding the bundles `npm run build` writes (one sub-folder per function with index.js and package.json). Null means dist/functions of this repository."
}
