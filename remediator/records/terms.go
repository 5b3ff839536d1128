package records

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Terms are what the catalog says about a proposal now: every input of its gates.
// The rule "the catalog decides, the branch only names" means they come from here,
// never from the artifact on the proposal branch (which anyone who can push to the
// branch can edit): the artifact only names the runbook and the anomaly, and is
// compared with the terms.
type Terms struct {
	Runbook *runbooks.Runbook // nil for the rollback of a runbook since deleted
	Policy  *runbooks.Policy
	Risk    runbooks.Risk
	// Required is how many approvals the policy wants for the risk.
	Required int
	// AutoMerge says the policy lets the risk merge without a human.
	AutoMerge bool
	// Limits are the plan limits of the runbook and the policy.
	Limits artifact.Limits
	// Verify is how the merged change will be judged.
	Verify artifact.Verify
}

// Refusal is why a proposal may not merge under the catalog; it waits and says so.
// It is an answer, not a failure: the pass goes on.
type Refusal struct {
	Reason string
	// Superseded says the catalog changed since the proposal was made (its runbook's
	// version, or what the catalog says of its policy, risk, approvals, limits,
	// rollback or verification) in a way a new proposal under the current catalog
	// fixes: the proposal is closed and made again (see lifecycle's Reconciler.supersede).
	Superseded bool
}

func refuse(format string, args ...any) *Refusal {
	return &Refusal{Reason: fmt.Sprintf(format, args...)}
}

func superseded(format string, args ...any) *Refusal {
	return &Refusal{Reason: fmt.Sprintf(format, args...), Superseded: true}
}

// TermsOf reads the terms of a proposal from the catalog and checks the artifact
// against them. On a disagreement the terms come back with the refusal (Policy set);
// on any other refusal they are empty. A rollback (artifact.RollbackOf) undoes a merged remediation, so it
// is allowed when its runbook has since been disabled, changed or deleted; its
// approvals are still the policy's, at the runbook's risk (critical when the runbook
// is gone).
func TermsOf(cat *runbooks.Catalog, router *runbooks.Router, id string, art *artifact.Artifact) (Terms, *Refusal) {
	if art.ID != id {
		return Terms{}, refuse("the artifact names remediation %q, but the branch is remediation/%s", art.ID, id)
	}
	rollback := art.RollbackOf != ""
	if rollback && id != art.RollbackOf+artifact.RollbackSuffix {
		return Terms{}, refuse("the artifact rolls back %q, but the branch is remediation/%s", art.RollbackOf, id)
	}
	rb := cat.Runbook(art.Runbook)
	if rb == nil && !rollback {
		return Terms{}, refuse("runbook %s is no longer in the catalog: nothing merges in its name", art.Runbook)
	}
	if rb != nil && !rollback && !rb.Spec.Enabled {
		return Terms{}, refuse("runbook %s is disabled in the catalog", art.Runbook)
	}
	anomaly := art.Anomaly.Subject()
	d := decision.Decide(router, anomaly)
	pol := cat.Policy(d.Policy)
	if pol == nil {
		pol = runbooks.DefaultPolicy()
	}
	t := Terms{Runbook: rb, Policy: pol, Risk: runbooks.RiskCritical}
	if rb != nil {
		t.Risk = rb.Spec.Risk
		t.Limits = artifact.LimitsOf(rb, pol)
		t.Verify = artifact.VerifyOf(rb, pol)
	}
	t.Required = pol.Spec.Approvals.For(t.Risk)
	t.AutoMerge = pol.Spec.AutoMerge.Allows(t.Risk)
	if !rollback {
		version, err := runbooks.Version(rb)
		if err != nil {
			return Terms{}, refuse("version of runbook %s: %v", rb.Metadata.Name, err)
		}
		if version != art.RunbookVersion {
			return Terms{}, superseded("runbook %s is at version %s in the catalog; this proposal was made by version %q, which the catalog no longer holds: it merges only what the current version proposes",
				rb.Metadata.Name, version, art.RunbookVersion)
		}
		// Ifs, not a tagless switch: mutation testing cannot see a case's condition.
		act := d.Acting
		if act == nil {
			return Terms{}, refuse("no enabled runbook of the catalog acts on the recorded anomaly now")
		}
		if act.Runbook != rb.Metadata.Name {
			return Terms{}, refuse("the catalog routes the recorded anomaly to runbook %s now, not %s", act.Runbook, rb.Metadata.Name)
		}
		if act.ID != id {
			return Terms{}, refuse("the recorded anomaly is remediation %s under the catalog, not %s", act.ID, id)
		}
	}
	if r := disagreements(art, t, rollback); r != nil {
		// A rollback is not proposed again: it waits until the catalog agrees.
		r.Superseded = !rollback
		// The terms come back with the refusal: plan-check checks the catalog's limits
		// even when the artifact claims others.
		return t, r
	}
	return t, nil
}

// disagreements compares what the artifact claims with the terms: where they differ,
// nothing merges, and the reason names each field.
func disagreements(art *artifact.Artifact, t Terms, rollback bool) *Refusal {
	var diffs []string
	differ := func(field string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			diffs = append(diffs, fmt.Sprintf("%s is %v in the artifact, %v in the catalog", field, show(got), show(want)))
		}
	}
	differ("policy", art.Policy, t.Policy.Metadata.Name)
	// The rollback of a runbook since deleted is judged at critical risk, stricter
	// than whatever it recorded: that is no disagreement to stop an undo for.
	if t.Runbook != nil {
		differ("risk", art.Risk, string(t.Risk))
		differ("required_approvals", art.RequiredApprovals, t.Required)
	}
	if !rollback {
		differ("plan_limits", normal(art.Limits), normal(t.Limits))
		differ("rollback", art.Rollback, t.Runbook.Spec.Rollback)
		differ("verify", art.Verify, t.Verify)
	}
	if len(diffs) == 0 {
		return nil
	}
	return refuse("the artifact disagrees with the catalog (%s): nothing merges until they agree; propose it again under the current catalog", strings.Join(diffs, "; "))
}

func show(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case artifact.Limits:
		return fmt.Sprintf("%+v", x)
	}
	return fmt.Sprint(v)
}

// normal makes empty lists nil, so a list written empty and one left out compare equal.
func normal(l artifact.Limits) artifact.Limits {
	for _, s := range []*[]string{&l.AllowedAddresses, &l.AllowedActions, &l.DeniedResourceTypes} {
		if len(*s) == 0 {
			*s = nil
		}
	}
	return l
}
