# The demo catalog: what a platform team publishes for its remediator.
# `make demo` applies it to a local catalog repository.

terraform {
  required_providers {
    remediation = {
      source  = "gitops-remediation/remediation"
      version = "~> 0.1"
    }
  }
}

variable "catalog_repository" {
  description = "Path or URL of the catalog repository."
  type        = string
}

provider "remediation" {
  repository = var.catalog_repository
  author = {
    name  = "Platform Team"
    email = "platform@example.com"
  }
}

resource "remediation_runbook" "scale_out_api" {
  name        = "scale-out-api"
  description = "Double the replicas of an API service whose p99 latency stays above 500ms, up to 20."
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
    allowed_addresses = ["module.service.aws_autoscaling_group.this"]
    allowed_actions   = ["update"]
    max_changes       = 1
  }
  # Verified only after CI reports the merge applied (`remediator applied`) and the
  # alert then stays resolved for the soak period; short here so the demo is quick.
  verify = {
    within        = "15m"
    soak          = "10s"
    apply_timeout = "30m"
  }
  cooldown = "1h"
}

resource "remediation_runbook" "raise_queue_workers" {
  name        = "raise-queue-workers"
  description = "Add workers when a queue backs up."
  risk        = "low"
  owners      = ["team-jobs"]
  trigger = {
    matchers = ["alertname=\"QueueBacklog\""]
    group_by = ["queue"]
  }
  changes = [{
    kind  = "yaml"
    file  = "k8s/workers/{{ .labels.queue }}.yaml"
    path  = "spec.replicas"
    value = "current + 2"
  }]
  cooldown = "30m"
}

resource "remediation_runbook" "revert_recent_change" {
  name        = "revert-recent-change"
  description = "Error rate jumped: undo the latest change to the service's manifests from the last two hours."
  risk        = "high"
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

resource "remediation_policy" "production" {
  name        = "production"
  description = "Production: humans approve, merges in office hours, nothing over the year-end freeze."
  selector    = ["env=\"prod\""]
  priority    = 100
  approvals = {
    low      = 1
    medium   = 1
    high     = 2
    critical = 2
  }
  required_reviewers = ["platform/sre"]
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
}

resource "remediation_policy" "staging" {
  name     = "staging"
  selector = ["env=~\"staging|dev\""]
  priority = 10
  approvals = {
    low    = 0
    medium = 0
  }
  auto_merge = {
    max_risk          = "medium"
    min_verified_runs = 2
  }
}
