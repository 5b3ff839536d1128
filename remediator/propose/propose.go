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
	var protected []string
	if pol := p.Catalog.Policy(d.Policy); pol != nil {
		protected = pol.Spec.ProtectedPaths
	}
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
	var files []string
	for i, c := range rb.Spec.Changes {
		if c.Kind == runbooks.ChangeRevert {
			return res, &InputError{fmt.Errorf("runbook %s change %d: revert changes are not supported by this remediator yet", rb.Metadata.Name, i)}
		}
		e, err := edits.Apply(wt.Dir, c, edits.Anomaly{Labels: a.Labels, Annotations: a.Annotations, Value: a.Value}, protected)
		if err != nil {
			return res, &InputError{fmt.Errorf("runbook %s change %d: %w", rb.Metadata.Name, i, err)}
		}
		if e.Changed {
			files = append(files, e.Path)
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
	log.Info("proposal opened", "action", res.Action, "branch", act.Branch, "commit", res.Commit, "files", len(files)-1)
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
