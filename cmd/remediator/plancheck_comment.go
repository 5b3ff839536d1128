package main

import (
	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/plancheck"
)

func postPlanCheck(cmd *cobra.Command, o planCheckOptions, res *plancheck.Result) error {
	return nil
}
