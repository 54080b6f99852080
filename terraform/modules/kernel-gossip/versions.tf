terraform {
  # 1.11 (OpenTofu and Terraform) is the first release with ephemeral input variables and
  # write-only resource arguments, which keep the Pixie API key out of plan and state.
  required_version = ">= 1.11"

  required_providers {
    google = {
      source = "hashicorp/google"
      # 7.x: write-only `secret_data_wo` without the 6.49 version-recreation bug, and
      # `google_project_service.disable_on_destroy` defaults to false.
      version = "~> 7.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
    }
  }
}
