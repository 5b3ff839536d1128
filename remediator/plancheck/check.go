package plancheck

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Rules a change can break.
const (
	RuleUndeclared = "undeclared-resource"
	RuleAction     = "action-not-allowed"
	RuleDestroy    = "destroy-not-allowed"
	RuleDeniedType = "denied-resource-type"
	RuleMaxChanges = "max-changes"
	// RuleCatalog: the artifact disagrees with the catalog (its limits are not the
	// catalog's, or its runbook is gone); the catalog's limits are checked.
	RuleCatalog = "catalog-mismatch"
)

// Change is one planned change that counts: reads and no-ops do not.
type Change struct {
	Address string `json:"address"`
	Type    string `json:"type"`
	Action  string `json:"action"`
	// OK is false when the change breaks a rule.
	OK bool `json:"ok"`
}

// Violation is one broken rule.
type Violation struct {
	Rule    string `json:"rule"`
	Address string `json:"address,omitempty"`
	Reason  string `json:"reason"`
}

// Result is the outcome of one check.
type Result struct {
	// Remediation is false for a plan of a change that is not a remediation: it passes.
	Remediation bool        `json:"remediation"`
	ID          string      `json:"id,omitempty"`
	Runbook     string      `json:"runbook,omitempty"`
	Policy      string      `json:"policy,omitempty"`
	Risk        string      `json:"risk,omitempty"`
	Terraform   string      `json:"terraform_version,omitempty"`
	Changes     []Change    `json:"changes"`
	Violations  []Violation `json:"violations"`
	Note        string      `json:"note,omitempty"`
}

// Passed is true when no rule is broken.
func (r *Result) Passed() bool { return len(r.Violations) == 0 }

// Check compares the plan's changes with the limits the artifact records: for a
// look without the catalog. The gate checks against the catalog's (CheckWith).
func Check(p *Plan, a *artifact.Artifact) *Result {
	return CheckWith(p, a, a.Limits)
}

// CheckWith compares the plan's changes with the given limits: the catalog's.
func CheckWith(p *Plan, a *artifact.Artifact, l artifact.Limits) *Result {
	res := &Result{Remediation: true, ID: a.ID, Runbook: a.Runbook, Policy: a.Policy, Risk: a.Risk,
		Terraform: p.TerraformVersion, Changes: make([]Change, 0, len(p.ResourceChanges)), Violations: []Violation{}}
	allowed := make([]*runbooks.AddressPattern, 0, len(l.AllowedAddresses))
	for _, raw := range l.AllowedAddresses {
		pat, err := runbooks.ParseAddressPattern(raw)
		if err != nil {
			res.Violations = append(res.Violations, Violation{Rule: RuleUndeclared, Reason: "allowed_addresses: " + err.Error()})
			continue
		}
		allowed = append(allowed, pat)
	}
	var scratch runbooks.Address
	for _, rc := range p.ResourceChanges {
		act := rc.Action()
		if act == "no-op" || act == "read" {
			continue
		}
		c := Change{Address: rc.Address, Type: rc.Type, Action: act, OK: true}
		add := func(rule, reason string) {
			c.OK = false
			res.Violations = append(res.Violations, Violation{Rule: rule, Address: rc.Address, Reason: reason})
		}
		if len(l.AllowedAddresses) > 0 && !matchAddress(allowed, rc.Address, &scratch) { // parsed once for every pattern
			add(RuleUndeclared, fmt.Sprintf("runbook %s never declared this resource (allowed_addresses: %s)", a.Runbook, strings.Join(l.AllowedAddresses, ", ")))
		}
		if len(l.AllowedActions) > 0 && !contains(l.AllowedActions, act) {
			add(RuleAction, fmt.Sprintf("%s is not an action runbook %s allows (allowed_actions: %s)", act, a.Runbook, strings.Join(l.AllowedActions, ", ")))
		}
		if act == "delete" || act == "replace" || act == "forget" {
			switch {
			case !l.RunbookAllowsDestroy:
				add(RuleDestroy, fmt.Sprintf("%s destroys the resource and runbook %s does not allow destroys (plan.allow_destroy)", act, a.Runbook))
			case !l.PolicyAllowsDestroy:
				add(RuleDestroy, fmt.Sprintf("%s destroys the resource and policy %s does not allow destroys (plan.allow_destroy)", act, a.Policy))
			}
		}
		if pattern, denied := matchFirst(l.DeniedResourceTypes, rc.Type); denied {
			add(RuleDeniedType, fmt.Sprintf("policy %s denies resource type %s (denied_resource_types: %s)", a.Policy, rc.Type, pattern))
		}
		res.Changes = append(res.Changes, c)
	}
	for _, lim := range []struct {
		max  int
		what string
	}{{l.RunbookMaxChanges, "runbook " + a.Runbook}, {l.PolicyMaxChanges, "policy " + a.Policy}} {
		if lim.max > 0 && len(res.Changes) > lim.max {
			res.Violations = append(res.Violations, Violation{Rule: RuleMaxChanges,
				Reason: fmt.Sprintf("%d resources change; %s allows at most %d (max_changes)", len(res.Changes), lim.what, lim.max)})
		}
	}
	sort.SliceStable(res.Violations, func(i, j int) bool { return res.Violations[i].Address < res.Violations[j].Address })
	return res
}

// NotARemediation is the result for a plan whose change carries no artifact.
func NotARemediation(p *Plan) *Result {
	res := &Result{Terraform: p.TerraformVersion, Changes: []Change{}, Violations: []Violation{},
		Note: "not a remediation: the change carries no .remediations/ artifact, so no runbook limits apply"}
	for _, rc := range p.ResourceChanges {
		if act := rc.Action(); act != "no-op" && act != "read" {
			res.Changes = append(res.Changes, Change{Address: rc.Address, Type: rc.Type, Action: act, OK: true})
		}
	}
	return res
}

// matchAddress parses addr into scratch (reused from one change to the next) and
// says whether any pattern matches it.
func matchAddress(patterns []*runbooks.AddressPattern, addr string, scratch *runbooks.Address) bool {
	if err := runbooks.ParseAddressInto(addr, scratch); err != nil {
		return false
	}
	for _, p := range patterns {
		if p.Match(*scratch) {
			return true
		}
	}
	return false
}

// matchFirst returns the first resource type pattern the type matches.
func matchFirst(patterns []string, typ string) (string, bool) {
	for _, p := range patterns {
		if runbooks.MatchResourceType(p, typ) {
			return p, true
		}
	}
	return "", false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
