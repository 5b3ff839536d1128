terraform {
  required_providers {
    remediation = {
      source  = "gitops-remediation/remediation"
      version = "~> 0.1"
    }
  }
}

# Which runbook and policy would handle this anomaly?
data "remediation_route" "api_latency" {
  labels = {
    alertname = "HighLatency"
    service   = "api-gateway"
    cluster   = "eu1"
    env       = "prod"
  }
  value = 0.8
}

output "decision" {
  value = {
    runbook            = data.remediation_route.api_latency.runbook
    policy             = data.remediation_route.api_latency.policy
    required_approvals = data.remediation_route.api_latency.required_approvals
    auto_merge         = data.remediation_route.api_latency.auto_merge
  }
}
