// Package artifact is the record a proposal carries in the infrastructure repository:
// .remediations/<id>.yaml and the commit trailers. With them every merged remediation
// can be reconstructed from Git alone.
package artifact

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/strictyaml"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Dir holds the artifacts in the infrastructure repository.
const Dir = ".remediations"

// Path is the artifact file of a proposal.
func Path(id string) string { return path.Join(Dir, id+".yaml") }

// Artifact records why a change was proposed and what it must achieve.
type Artifact struct {
	APIVersion        string   `yaml:"apiVersion"`
	Kind              string   `yaml:"kind"`
	ID                string   `yaml:"id"`
	Runbook           string   `yaml:"runbook"`
	RunbookVersion    string   `yaml:"runbook_version"`
	Policy            string   `yaml:"policy"`
	Risk              string   `yaml:"risk"`
	RequiredApprovals int      `yaml:"required_approvals"`
	Target            string   `yaml:"target"`
	Anomaly           Anomaly  `yaml:"anomaly"`
	Changes           []Change `yaml:"changes"`
	// Reverts are the base commits a revert change undoes.
	Reverts []Reverted `yaml:"reverts,omitempty"`
	// RollbackOf is the remediation this one rolls back after its verification failed.
	RollbackOf string `yaml:"rollback_of,omitempty"`
	Expected   string `yaml:"expected_outcome"`
	// Limits are what the terraform plan of this change may do, from the runbook
	// and the policy as they were when proposed: plan-check reads them here.
	Limits     Limits `yaml:"plan_limits"`
	Verify     Verify `yaml:"verify"`
	Rollback   string `yaml:"rollback"`
	Merge      Merge  `yaml:"merge"`
	ProposedAt string `yaml:"proposed_at"`
	// TraceParent names the proposal's span (W3C traceparent): reconcile passes and
	// verification continue the anomaly's trace from it. Not a gate input.
	TraceParent string `yaml:"trace_parent,omitempty"`
}

// Merge records whether the policy's change and freeze windows allowed a merge when
// the proposal was made.
type Merge struct {
	Allowed bool   `yaml:"allowed"`
	Reason  string `yaml:"reason,omitempty"`
}

// Anomaly is the snapshot of what triggered the proposal.
type Anomaly struct {
	Fingerprint string            `yaml:"fingerprint"`
	Source      string            `yaml:"source"`
	Status      string            `yaml:"status"`
	StartsAt    string            `yaml:"starts_at"`
	Value       float64           `yaml:"value"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Change is one edit as applied.
type Change struct {
	File string `yaml:"file"`
	Path string `yaml:"path"`
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// Limits bound the plan of a proposal. Zero values mean no limit, except destroys,
// which need both the runbook and the policy to allow them.
type Limits struct {
	AllowedAddresses     []string `yaml:"allowed_addresses,omitempty"`
	AllowedActions       []string `yaml:"allowed_actions,omitempty"`
	RunbookMaxChanges    int      `yaml:"runbook_max_changes,omitempty"`
	PolicyMaxChanges     int      `yaml:"policy_max_changes,omitempty"`
	RunbookAllowsDestroy bool     `yaml:"runbook_allows_destroy"`
	PolicyAllowsDestroy  bool     `yaml:"policy_allows_destroy"`
	DeniedResourceTypes  []string `yaml:"denied_resource_types,omitempty"`
}

// Reverted is one commit a revert change undoes.
type Reverted struct {
	Commit  string `yaml:"commit"`
	Subject string `yaml:"subject"`
	// Why says why this commit was taken for the cause (see infrarepo.PlanRevert).
	Why string `yaml:"why,omitempty"`
}

// Verify is how success will be judged.
type Verify struct {
	Within        string `yaml:"within"`
	AlertResolved bool   `yaml:"alert_resolved"`
	PromQL        string `yaml:"promql,omitempty"`
	// Soak, ApplyTimeout and AppliedCheck: see runbooks.Verify. Empty in artifacts
	// written before they existed, which are judged with the defaults.
	Soak         string `yaml:"soak,omitempty"`
	ApplyTimeout string `yaml:"apply_timeout,omitempty"`
	AppliedCheck string `yaml:"applied_check,omitempty"`
}

// VerifyOf is how the catalog says a runbook's remediation is judged under a policy.
func VerifyOf(rb *runbooks.Runbook, pol *runbooks.Policy) Verify {
	v := rb.Spec.Verify
	return Verify{
		Within: v.Within.String(), AlertResolved: v.AlertResolved, PromQL: v.PromQL,
		Soak: v.Soak.String(), ApplyTimeout: v.ApplyTimeout.String(), AppliedCheck: runbooks.AppliedCheck(rb, pol),
	}
}

// Durations reads the verification's durations, defaults for those left out.
func (v Verify) Durations() (within, soak, applyTimeout time.Duration) {
	read := func(s string, def time.Duration) time.Duration {
		if d, err := runbooks.ParseDuration(s); err == nil && s != "" {
			return d.Std()
		}
		return def
	}
	return read(v.Within, 0), read(v.Soak, runbooks.DefaultVerifySoak), read(v.ApplyTimeout, runbooks.DefaultApplyTimeout)
}

// Check is the name of the check that reports the change applied.
func (v Verify) Check() string {
	if v.AppliedCheck != "" {
		return v.AppliedCheck
	}
	return runbooks.DefaultAppliedCheck
}

// IsRollback says whether a remediation id names the rollback of another: a
// rollback's outcome is no evidence about its runbook's change.
func IsRollback(id string) bool { return strings.HasSuffix(id, RollbackSuffix) }

// RollbackSuffix ends the id of a rollback: <id>-rollback.
const RollbackSuffix = "-rollback"

// Kind and APIVersion of an artifact.
const (
	APIVersion = "remediation.gitops.dev/v1"
	KindName   = "Remediation"
)

// Encode writes the artifact; map keys are sorted, so the bytes are stable.
func (a *Artifact) Encode() ([]byte, error) {
	a.APIVersion, a.Kind = APIVersion, KindName
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(a); err != nil {
		return nil, fmt.Errorf("encode artifact %s: %w", a.ID, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Timestamp formats times in artifacts.
func Timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Trailer keys, in the order they are written.
var trailerKeys = []string{"Remediation-Id", "Runbook", "Runbook-Version", "Policy", "Risk", "Anomaly-Fingerprint"}

// Trailers are the commit trailers of a proposal commit.
func (a *Artifact) Trailers() [][2]string {
	vals := map[string]string{
		"Remediation-Id": a.ID, "Runbook": a.Runbook, "Runbook-Version": a.RunbookVersion,
		"Policy": a.Policy, "Risk": a.Risk, "Anomaly-Fingerprint": a.Anomaly.Fingerprint,
	}
	out := make([][2]string, 0, len(trailerKeys))
	for _, k := range trailerKeys {
		out = append(out, [2]string{k, OneLine(vals[k])})
	}
	return out
}

// CommitMessage is the proposal commit's message: a subject saying what changes, a
// body saying why, and the trailers.
func (a *Artifact) CommitMessage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "remediation(%s): %s\n\n", a.Runbook, OneLine(subject(a)))
	fmt.Fprintf(&b, "Anomaly %s", OneLine(runbooks.FormatLabels(a.Anomaly.Labels)))
	if a.Anomaly.Value != 0 {
		fmt.Fprintf(&b, " at value %g", a.Anomaly.Value)
	}
	fmt.Fprintf(&b, ".\nRisk %s under policy %s: %d approval(s) required.\n\n", a.Risk, a.Policy, a.RequiredApprovals)
	for _, t := range a.Trailers() {
		fmt.Fprintf(&b, "%s: %s\n", t[0], t[1])
	}
	return b.String()
}

func subject(a *Artifact) string {
	if len(a.Changes) == 1 {
		c := a.Changes[0]
		return fmt.Sprintf("%s %s %s -> %s", c.File, c.Path, c.From, c.To)
	}
	return fmt.Sprintf("%d changes for %s", len(a.Changes), a.Target)
}

// OneLine folds every run of white space (new lines, carriage returns, Unicode line
// separators) into one space: what an outside value (a label, a reason, a reviewer's
// text) must pass through before it enters a commit message, a trailer, a pull
// request body or a notification, so it cannot inject lines or trailers there.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// MaxBytes bounds an artifact read back from a branch.
const MaxBytes = 1 << 20

// Decode reads an artifact written by Encode, strictly: artifacts are read back from
// branches people can push to, so unknown fields, duplicate keys and YAML aliases
// are refused.
func Decode(data []byte) (*Artifact, error) {
	var a Artifact
	if _, err := strictyaml.Decode("artifact", data, &a, MaxBytes); err != nil {
		return nil, fmt.Errorf("decode artifact: %w", err)
	}
	if a.APIVersion != APIVersion || a.Kind != KindName || a.ID == "" {
		return nil, fmt.Errorf("decode artifact: not a %s %s", APIVersion, KindName)
	}
	return &a, nil
}

// LimitsOf are the plan limits a runbook and a policy set, as an artifact records them.
func LimitsOf(rb *runbooks.Runbook, pol *runbooks.Policy) Limits {
	return Limits{
		AllowedAddresses: rb.Spec.Plan.AllowedAddresses, AllowedActions: rb.Spec.Plan.AllowedActions,
		RunbookMaxChanges: rb.Spec.Plan.MaxChanges, PolicyMaxChanges: pol.Spec.Plan.MaxChanges,
		RunbookAllowsDestroy: rb.Spec.Plan.AllowDestroy, PolicyAllowsDestroy: pol.Spec.Plan.AllowDestroy,
		DeniedResourceTypes: pol.Spec.Plan.DeniedResourceTypes,
	}
}

// Subject is the recorded anomaly as runbooks see it (routing, conditions, templates
// and edits), as intake.Anomaly.Subject gives it when proposing.
func (a Anomaly) Subject() runbooks.Anomaly {
	return runbooks.Anomaly{Labels: a.Labels, Annotations: a.Annotations, Value: a.Value}
}
