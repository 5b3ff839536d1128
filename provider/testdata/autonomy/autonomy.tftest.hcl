# The Go test passes the record it expects (var.want_*) and changes the
# repository's history between runs of `terraform test`. Compared as text: OpenTofu
# 1.6's `tofu test` hands -var values over as strings.
run "record" {
  command = plan

  assert {
    condition     = data.remediation_route.staging_latency.runbook == "scale-out-api" && tostring(data.remediation_route.staging_latency.auto_merge) == tostring(var.want_may_auto_merge)
    error_message = "staging lets scale-out-api auto-merge once earned, and only then (auto_merge is ${data.remediation_route.staging_latency.auto_merge}: ${coalesce(data.remediation_route.staging_latency.approvals_reason, "-")})"
  }
  assert {
    condition     = tostring(data.remediation_route.staging_latency.record.may_auto_merge) == tostring(var.want_may_auto_merge)
    error_message = "may_auto_merge is ${data.remediation_route.staging_latency.record.may_auto_merge}: ${coalesce(data.remediation_route.staging_latency.record.reason, "-")}"
  }
  assert {
    condition     = tostring(data.remediation_route.staging_latency.record.streak) == tostring(var.want_streak)
    error_message = "streak is ${data.remediation_route.staging_latency.record.streak}"
  }
}
