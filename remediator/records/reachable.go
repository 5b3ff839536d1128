package records

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// UnreachableReviewers lists, for the local forge, each reviewer the catalog's
// policies require whom no line of the allowed-signers file names (by name: a
// pattern never approves), and each member of a required team likewise, or a team
// forge.teams does not declare. Such a requirement can never be met: a proposal
// under it waits for ever, or someone "fixes" it by listing a key for a look-alike
// name. Said at `catalog validate --config` and when a pass starts.
func UnreachableReviewers(cat *runbooks.Catalog, as *signing.AllowedSigners, teams map[string][]string) []string {
	if cat == nil || as == nil {
		return nil
	}
	var out []string
	for _, pol := range cat.Policies {
		for _, want := range pol.Spec.RequiredReviewers {
			out = append(out, unreachable(pol.Metadata.Name, want, as, teams)...)
		}
	}
	sort.Strings(out)
	return out
}

func unreachable(policy, want string, as *signing.AllowedSigners, teams map[string][]string) []string {
	if !strings.Contains(want, "/") {
		if as.CanBe(want) {
			return nil
		}
		return []string{fmt.Sprintf("policy %s: required reviewer %s: no line of %s names %s, so nobody can approve as them (a reviewer matches one principal exactly)", policy, want, as.File, want)}
	}
	members, ok := teams[want]
	if !ok {
		return []string{fmt.Sprintf("policy %s: required team %s is not declared under forge.teams", policy, want)}
	}
	var out []string
	for _, m := range members {
		if !as.CanBe(m) {
			out = append(out, fmt.Sprintf("policy %s: team %s member %s: no line of %s names %s, so they cannot approve", policy, want, m, as.File, m))
		}
	}
	return out
}
