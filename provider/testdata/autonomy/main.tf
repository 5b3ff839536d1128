# Reads a runbook's earned autonomy from the infrastructure repository's outcome
# notes, for the autonomy `terraform test` (TestAutonomyInTerraformTest).
terraform {
  required_providers {
    remediation = {
      source = "gitops-remediation/remediation"
    }
  }
}

variable "catalog_repository" {
  type = string
}

variable "outcomes_repository" {
  type = string
}

# Only merges and outcome notes this key signed count.
variable "remediator_public_key" {
  type = string
}

provider "remediation" {
  repository = var.catalog_repository
}

data "remediation_route" "staging_latency" {
  labels              = { alertname = "HighLatency", service = "api-search", env = "staging" }
  value               = 0.9
  outcomes_repository   = var.outcomes_repository
  remediator_public_key = var.remediator_public_key
}

output "record" {
  value = data.remediation_route.staging_latency.record
}

# What the test expects; the Go test sets them with -var.
variable "want_may_auto_merge" {
  type    = bool
  default = false
}

variable "want_streak" {
  type    = number
  default = 0
}
