# Import a policy by its name.
terraform import remediation_policy.production production
