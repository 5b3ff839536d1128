terraform {
  required_providers {
    remediation = {
      source  = "gitops-remediation/remediation"
      version = "~> 0.1"
    }
  }
}

# Guardrails for production: approvals by risk, office-hours merges, a
# year-end freeze, limits and a circuit breaker.
resource "remediation_policy" "production" {
  name        = "production"
  description = "Everything labelled env=prod."
  selector    = ["env=\"prod\""]
  priority    = 100

  approvals = {
    low      = 0
    medium   = 1
    high     = 2
    critical = 2
  }
  required_reviewers = ["platform/sre"]
  # Green on the proposal's head commit before it merges; not reported yet is not green.
  required_checks = ["terraform-plan", "remediation/plan-check"]

  auto_merge = {
    max_risk          = "low"
    min_verified_runs = 3
  }

  change_windows = [{
    time_zone = "Europe/Berlin"
    days      = ["mon", "tue", "wed", "thu", "fri"]
    start     = "08:00"
    end       = "18:00"
  }]

  freeze_windows = [{
    time_zone = "UTC"
    from      = "2026-12-20"
    until     = "2027-01-03"
  }]

  limits = {
    max_open = 5
    per_hour = 10
  }

  circuit_breaker = {
    failures = 3
    window   = "1h"
    cooldown = "6h"
  }

  plan = {
    allow_destroy         = false
    max_changes           = 10
    denied_resource_types = ["aws_iam_role", "aws_iam_policy"]
  }

  protected_paths = ["envs/prod/network/**"]
}
