# Routes one anomaly through the published catalog, for the routing tests.
terraform {
  required_providers {
    remediation = {
      source  = "gitops-remediation/remediation"
      version = "~> 0.1"
    }
  }
}

# Declared so that the test file's provider block can read it in this module's runs.
variable "catalog_repository" {
  type = string
}

variable "labels" {
  type = map(string)
}

variable "value" {
  type    = number
  default = 0
}

data "remediation_route" "this" {
  labels = var.labels
  value  = var.value
}

output "runbook" {
  value = data.remediation_route.this.runbook
}

output "policy" {
  value = data.remediation_route.this.policy
}

output "required_approvals" {
  value = data.remediation_route.this.required_approvals
}

output "auto_merge" {
  value = data.remediation_route.this.auto_merge
}
