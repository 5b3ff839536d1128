# Import a runbook by its name.
terraform import remediation_runbook.scale_out_api scale-out-api
