resource "google_bigquery_dataset" "findings" {
  project     = var.project_id
  dataset_id  = local.bigquery_dataset_id
  location    = var.region
  description = "kernel-gossip findings history, written by a Pub/Sub BigQuery subscription."
  labels      = local.labels

  depends_on = [google_project_service.enabled]
}

resource "google_bigquery_table" "findings" {
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.findings.dataset_id
  table_id            = local.bigquery_table_id
  description         = "One row per finding, columns mirroring shared/findings/finding.avsc."
  labels              = local.labels
  deletion_protection = var.findings.bigquery_deletion_protection
  schema              = file(local.findings_bigquery_schema_path)

  time_partitioning {
    type          = "DAY"
    expiration_ms = var.findings.bigquery_partition_expiration_days == null ? null : var.findings.bigquery_partition_expiration_days * 86400000
  }
}
