terraform {
  required_providers {
    remediation = {
      source  = "gitops-remediation/remediation"
      version = "~> 0.1"
    }
  }
}

# The catalog repository the provider publishes runbooks and policies to.
# Credentials come from the environment (REMEDIATION_GIT_TOKEN or
# REMEDIATION_SSH_PRIVATE_KEY) rather than the configuration.
provider "remediation" {
  repository = "https://git.example.com/platform/remediation-catalog.git"
  branch     = "main"
  directory  = "catalog"

  author = {
    name  = "Catalog CI"
    email = "catalog-ci@example.com"
  }
}
