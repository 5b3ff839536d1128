terraform {
  required_providers {
    remediation = {
      source  = "gitops-remediation/remediation"
      version = "~> 0.1"
    }
  }
}

# Alertmanager matcher semantics inside Terraform (Terraform 1.8+ or OpenTofu 1.7+).
output "matches_api" {
  value = provider::remediation::matches(
    ["alertname=\"HighLatency\"", "service=~\"api-.*\""],
    { alertname = "HighLatency", service = "api-gateway" },
  ) # true
}
