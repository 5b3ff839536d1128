// Package propose turns one anomaly into a proposal on the infrastructure repository:
// decide, check out the base, apply the runbook's edits, commit them with the
// artifact and trailers on remediation/<id>, and push with compare-and-swap. The same
// anomaly always lands on the same branch; a repeat never opens a second proposal.
package propose

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/edits"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Actions reported for an anomaly.
const (
	Opened     = "opened"
	Updated    = "updated"
	Unchanged  = "unchanged"
	Suppressed = "suppressed"
	NoMatch    = "no-match"
)

// Result is what became of one anomaly.
type Result struct {
	ID      string `json:"id"`
	Branch  string `json:"branch"`
	Action  string `json:"action"`
	Runbook string `json:"runbook"`
	Policy  string `json:"policy"`
	Risk    string `json:"risk"`
	Reason  string `json:"reason,omitempty"`
	Commit  string `json:"commit,omitempty"`
	// Diff is the proposed change, for --dry-run.
	Diff string `json:"-"`
}

// InputError is a problem with the anomaly or the runbook applied to it (a missing
// label, a protected or escaping path, a value that is not a literal): bad input,
// not a failure of the remediator.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Proposer proposes remediations against one catalog revision and one repository.
type Proposer struct {
	Catalog     *runbooks.Catalog
	Router      *runbooks.Router
	Infra       *infrarepo.Repo
	Base        string
	AuthorName  string
	AuthorEmail string
	Now         func() time.Time
	Logger      *slog.Logger
}

// Propose handles one anomaly. With dryRun nothing is pushed and Result.Diff holds
// the change.
func (p *Proposer) Propose(ctx context.Context, a intake.Anomaly, dryRun bool) (Result, error) {
	d := decision.Decide(p.Router, runbooks.Anomaly{Labels: a.Labels, Annotations: a.Annotations, Value: a.Value})
	res := Result{Policy: d.Policy}
	log := p.Logger.With("fingerprint", a.Fingerprint)
	if d.Acting == nil {
		res.Action, res.Reason = NoMatch, "no enabled runbook handles this anomaly"
		log.Info("no runbook acts", "action", res.Action, "policy", d.Policy)
		return res, nil
	}
	act := d.Acting
	res.ID, res.Branch, res.Runbook, res.Risk = act.ID, act.Branch, act.Runbook, act.Risk
	log = log.With("remediation_id", act.ID, "runbook", act.Runbook)
	if a.Status == intake.StatusResolved {
		res.Action, res.Reason = Suppressed, "the anomaly has already resolved"
		log.Info("nothing to propose", "action", res.Action, "reason", res.Reason)
		return res, nil
	}
	if err := p.Infra.Fetch(ctx); err != nil {
		return res, err
	}
	if _, exists := p.Infra.Branch(act.Branch); exists {
		res.Action, res.Reason = Updated, "a proposal for this runbook and target is already open"
		log.Info("proposal exists", "action", res.Action, "branch", act.Branch)
		return res, nil
	}
	rb := p.Catalog.Runbook(act.Runbook)
	pol := p.Catalog.Policy(d.Policy)
	if pol == nil {
		pol = runbooks.DefaultPolicy()
	}
	if reason, err := p.gate(rb, pol, act.ID); err != nil || reason != "" {
		if err == nil {
			res.Action, res.Reason = Suppressed, reason
			log.Info("suppressed", "action", res.Action, "reason", reason)
		}
		return res, err
	}
	protected := pol.Spec.ProtectedPaths
	wt, err := p.Infra.Checkout(ctx, p.Base)
	if err != nil {
		return res, err
	}
	defer wt.Close()

	art := &artifact.Artifact{
		ID: act.ID, Runbook: act.Runbook, Policy: d.Policy, Risk: act.Risk, RequiredApprovals: act.RequiredApprovals,
		Target: act.Target, Rollback: rb.Spec.Rollback, ProposedAt: artifact.Timestamp(p.Now()),
		Anomaly: artifact.Anomaly{
			Fingerprint: a.Fingerprint, Source: a.Source, Status: a.Status, StartsAt: artifact.Timestamp(a.StartsAt),
			Value: a.Value, Labels: a.Labels, Annotations: a.Annotations,
		},
		Verify: artifact.Verify{Within: rb.Spec.Verify.Within.String(), AlertResolved: rb.Spec.Verify.AlertResolved, PromQL: rb.Spec.Verify.PromQL},
	}
	if art.RunbookVersion, err = runbooks.Version(rb); err != nil {
		return res, err
	}
	art.Expected = expected(rb, a)
	art.Merge = mergeWindow(pol, p.Now())
	var files []string
	for i, c := range rb.Spec.Changes {
		if c.Kind == runbooks.ChangeRevert {
			return res, &InputError{fmt.Errorf("runbook %s change %d: revert changes are not supported by this remediator yet", rb.Metadata.Name, i)}
		}
		ea := edits.Anomaly{Labels: a.Labels, Annotations: a.Annotations, Value: a.Value}
		target, err := edits.Target(c.File, ea)
		if err != nil {
			return res, &InputError{fmt.Errorf("runbook %s change %d: %w", rb.Metadata.Name, i, err)}
		}
		if err := wt.Materialize(target); err != nil {
			return res, err
		}
		e, err := edits.Apply(wt.Dir, c, ea, protected)
		if err != nil {
			return res, &InputError{fmt.Errorf("runbook %s change %d: %w", rb.Metadata.Name, i, err)}
		}
		if e.Changed {
			files = append(files, e.File)
			art.Changes = append(art.Changes, artifact.Change{File: e.Path, Path: c.Path, From: fmt.Sprint(e.Current), To: fmt.Sprint(e.New)})
		}
	}
	if len(files) == 0 {
		res.Action, res.Reason = Unchanged, "every change is already in place on "+p.Base
		log.Info("nothing to change", "action", res.Action)
		return res, nil
	}
	data, err := art.Encode()
	if err != nil {
		return res, err
	}
	if err := writeArtifact(wt.Dir, act.ID, data); err != nil {
		return res, err
	}
	files = append(files, artifact.Path(act.ID))
	commit, err := wt.Commit(files, art.CommitMessage(), p.AuthorName, p.AuthorEmail, p.Now())
	if err != nil {
		return res, err
	}
	res.Commit = commit.Hash.String()
	if dryRun {
		res.Action, res.Reason = Opened, "dry run: nothing was pushed"
		res.Diff, err = wt.Diff(commit)
		return res, err
	}
	if err := wt.Push(ctx, commit, act.Branch); err != nil {
		if errors.Is(err, infrarepo.ErrBranchExists) {
			res.Action, res.Reason, res.Commit = Updated, "another writer opened this proposal first", ""
			log.Info("proposal raced", "action", res.Action)
			return res, nil
		}
		return res, err
	}
	res.Action = Opened
	if !art.Merge.Allowed {
		res.Reason = "not mergeable yet: " + art.Merge.Reason
	}
	log.Info("proposal opened", "mergeable", art.Merge.Allowed, "action", res.Action, "branch", act.Branch, "commit", res.Commit, "files", len(files)-1)
	return res, nil
}

func expected(rb *runbooks.Runbook, a intake.Anomaly) string {
	what := "the triggering alert resolves"
	if name := a.Labels["alertname"]; name != "" {
		what = fmt.Sprintf("alert %s resolves", name)
	}
	if !rb.Spec.Verify.AlertResolved {
		what = "the verification query holds"
	} else if rb.Spec.Verify.PromQL != "" {
		what += " and the verification query holds"
	}
	return fmt.Sprintf("%s within %s of the merge", what, rb.Spec.Verify.Within)
}

// gate applies the runbook's cooldown and the policy's limits, counted from Git: the
// base branch's history and the open proposal branches. It returns why the anomaly is
// suppressed, or "".
func (p *Proposer) gate(rb *runbooks.Runbook, pol *runbooks.Policy, id string) (string, error) {
	now := p.Now()
	if cd := rb.Spec.Cooldown.Std(); cd > 0 {
		last, found, err := p.Infra.LastRemediated(p.Base, id, now.Add(-cd))
		if err != nil {
			return "", err
		}
		if found {
			return fmt.Sprintf("cooldown: this target was last remediated at %s; quiet until %s",
				last.UTC().Format(time.RFC3339), last.Add(cd).UTC().Format(time.RFC3339)), nil
		}
	}
	limits := pol.Spec.Limits
	if limits.MaxOpen == 0 && limits.PerHour == 0 {
		return "", nil
	}
	props, err := p.Infra.Proposals(decision.BranchPrefix, p.Base)
	if err != nil {
		return "", err
	}
	open, lastHour := 0, 0
	for _, pr := range props {
		if pr.Policy != pol.Metadata.Name {
			continue
		}
		if !pr.Merged {
			open++
		}
		if pr.Created.After(now.Add(-time.Hour)) {
			lastHour++
		}
	}
	switch {
	case limits.MaxOpen > 0 && open >= limits.MaxOpen:
		return fmt.Sprintf("limit: %d proposals already open under policy %s (max_open %d)", open, pol.Metadata.Name, limits.MaxOpen), nil
	case limits.PerHour > 0 && lastHour >= limits.PerHour:
		return fmt.Sprintf("limit: %d proposals opened in the last hour under policy %s (per_hour %d)", lastHour, pol.Metadata.Name, limits.PerHour), nil
	}
	return "", nil
}

// mergeWindow says whether the policy's windows allow a merge now. Outside them the
// proposal is still opened, marked as not mergeable until a window opens.
func mergeWindow(pol *runbooks.Policy, now time.Time) artifact.Merge {
	if runbooks.InWindows(pol.Spec.FreezeWindows, now) {
		return artifact.Merge{Allowed: false, Reason: "inside a freeze window of policy " + pol.Metadata.Name}
	}
	if len(pol.Spec.ChangeWindows) > 0 && !runbooks.InWindows(pol.Spec.ChangeWindows, now) {
		return artifact.Merge{Allowed: false, Reason: "outside every change window of policy " + pol.Metadata.Name}
	}
	return artifact.Merge{Allowed: true}
}
