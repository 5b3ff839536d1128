terraform {
  required_providers {
    remediation = {
      source  = "gitops-remediation/remediation"
      version = "~> 0.1"
    }
  }
}

# Everything the catalog repository holds, for use elsewhere.
data "remediation_catalog" "current" {}

output "runbook_names" {
  value = [for rb in data.remediation_catalog.current.runbooks : rb.name]
}
