# Routing tests for the demo catalog: `terraform test` publishes the catalog to
# the repository given in var.catalog_repository, then routes sample anomalies.

provider "remediation" {
  repository = var.catalog_repository
}

run "publish" {
  command = apply
}

run "slow_prod_api_scales_out_with_one_approval" {
  command = apply
  module {
    source = "./tests/route"
  }
  variables {
    labels = { alertname = "HighLatency", service = "api-gateway", cluster = "eu1", env = "prod" }
    value  = 0.8
  }
  assert {
    condition     = output.runbook == "scale-out-api"
    error_message = "a slow prod API should scale out"
  }
  assert {
    condition     = output.policy == "production" && output.required_approvals == 1 && !output.auto_merge
    error_message = "prod medium risk needs one human approval and never auto-merges"
  }
}

run "mildly_slow_api_is_left_alone" {
  command = apply
  module {
    source = "./tests/route"
  }
  variables {
    labels = { alertname = "HighLatency", service = "api-gateway", cluster = "eu1", env = "prod" }
    value  = 0.3
  }
  assert {
    condition     = output.runbook == null
    error_message = "below the condition's threshold nothing should act"
  }
}

run "staging_backlog_may_auto_merge" {
  command = apply
  module {
    source = "./tests/route"
  }
  variables {
    labels = { alertname = "QueueBacklog", queue = "emails", env = "staging" }
  }
  assert {
    condition     = output.runbook == "raise-queue-workers" && output.policy == "staging"
    error_message = "a staging backlog goes to raise-queue-workers under the staging policy"
  }
  assert {
    condition     = !output.auto_merge && output.required_approvals == 1
    error_message = "staging lets a low risk auto-merge only once the runbook version has earned it (two verified runs): here, with no record read, one person approves"
  }
}
