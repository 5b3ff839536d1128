terraform {
  required_providers {
    remediation = {
      source  = "gitops-remediation/remediation"
      version = "~> 0.1"
    }
  }
}

# Scale an API service out when its p99 latency is high.
resource "remediation_runbook" "scale_out_api" {
  name        = "scale-out-api"
  description = "Double the replicas of an API service whose p99 latency stays above 500ms."
  risk        = "medium"
  owners      = ["team-api"]

  trigger = {
    matchers  = ["alertname=\"HighLatency\"", "service=~\"api-.*\""]
    condition = "value > 0.5"
    group_by  = ["service", "cluster"]
  }

  changes = [{
    kind  = "hcl"
    file  = "envs/{{ .labels.cluster }}/{{ .labels.service }}.auto.tfvars"
    path  = "replicas"
    value = "math.least(current * 2, 20)"
  }]

  plan = {
    allowed_addresses = ["module.api.aws_autoscaling_group.*"]
    allowed_actions   = ["update"]
    max_changes       = 1
  }

  verify = {
    within         = "15m"
    alert_resolved = true
    promql         = "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service=\"api\"}[5m]))) < 0.5"
  }

  rollback = "revert"
  cooldown = "1h"
}

# Undo the latest change to a service's Kubernetes manifests when its error
# rate jumps: the "a recent change caused it" remediation.
resource "remediation_runbook" "revert_recent_change" {
  name = "revert-recent-change"
  risk = "high"

  trigger = {
    matchers = ["alertname=\"ErrorRateHigh\""]
    group_by = ["service"]
  }

  changes = [{
    kind   = "revert"
    paths  = ["k8s/{{ .labels.service }}/**"]
    within = "2h"
  }]

  rollback = "none"
}
