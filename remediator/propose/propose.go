// Package propose turns one anomaly into a proposal on the infrastructure repository:
// decide, check out the base, apply the runbook's edits, commit them with the
// artifact and trailers on remediation/<id>, and push with compare-and-swap. The same
// anomaly always lands on the same branch; a repeat never opens a second proposal.
package propose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"go.opentelemetry.io/otel/trace"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/edits"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Actions reported for an anomaly.
const (
	Opened     = "opened"
	Updated    = "updated"
	Unchanged  = "unchanged"
	Suppressed = "suppressed"
	// Closed: the anomaly resolved before the merge; its open proposal was closed.
	Closed = "closed"
	// Suspended: the policy's circuit breaker stopped the runbook.
	Suspended = "suspended"
	NoMatch   = "no-match"
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
	// URL is where the proposal is reviewed.
	URL string `json:"url,omitempty"`
	// Recurrences counts repeats of the anomaly while the proposal is open.
	Recurrences int `json:"recurrences,omitempty"`
	// Diff is the proposed change, for --dry-run.
	Diff string `json:"-"`
}

// InputError is a problem with the anomaly or the runbook applied to it (a missing
// label, a protected or escaping path, a value that is not a literal): bad input,
// not a failure of the remediator.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Forge is where proposals are opened, found again and counted.
type Forge interface {
	// Lookup finds the newest proposal from a branch, in any state.
	Lookup(ctx context.Context, branch string) (forge.Proposal, bool, error)
	// Open opens the proposal of a pushed branch; opening twice returns the first.
	Open(ctx context.Context, r forge.Request) (forge.Proposal, error)
	// Recur records a repeat of the anomaly on an open proposal and returns the count.
	Recur(ctx context.Context, p forge.Proposal, r forge.Request) (int, error)
	// Proposals lists open proposals and those created since the given time.
	Proposals(ctx context.Context, since time.Time) ([]forge.Proposal, error)
	// Close withdraws an open proposal, saying why.
	Close(ctx context.Context, p forge.Proposal, reason string) error
}

// Proposer proposes remediations against one catalog revision and one repository.
type Proposer struct {
	Catalog     *runbooks.Catalog
	Router      *runbooks.Router
	Infra       *infrarepo.Repo
	Forge       Forge
	Base        string
	AuthorName  string
	AuthorEmail string
	Now         func() time.Time
	Logger      *slog.Logger
	// Limits bound a storm whatever the policies say; zero fields are no bound.
	Limits decision.Bounds
	// Tracer records the proposal's steps in the anomaly's trace; nil traces nothing.
	Tracer trace.Tracer
}

// span starts a step of the proposal in the anomaly's trace.
func (p *Proposer) span(ctx context.Context, name string) (context.Context, trace.Span) {
	return tracing.Or(p.Tracer).Start(ctx, name)
}

// Propose handles one anomaly. With dryRun nothing is pushed or opened and
// Result.Diff holds the change.
func (p *Proposer) Propose(ctx context.Context, a intake.Anomaly, dryRun bool) (res Result, err error) {
	ctx, span := p.span(ctx, "propose")
	defer func() {
		span.SetAttributes(tracing.RemediationID.String(res.ID), tracing.Runbook.String(res.Runbook), tracing.Policy.String(res.Policy), tracing.Action.String(res.Action))
		if err != nil {
			span.RecordError(err)
		}
		span.End()
	}()
	_, routeSpan := p.span(ctx, "route")
	d := decision.Decide(p.Router, runbooks.Anomaly{Labels: a.Labels, Annotations: a.Annotations, Value: a.Value})
	routeSpan.End()
	res = Result{Policy: d.Policy}
	log := p.Logger.With("fingerprint", a.Fingerprint)
	if id := tracing.TraceID(ctx); id != "" {
		log = log.With("trace_id", id)
	}
	if d.Acting == nil {
		res.Action, res.Reason = NoMatch, "no enabled runbook handles this anomaly"
		log.Info("no runbook acts", "action", res.Action, "policy", d.Policy)
		return res, nil
	}
	act := d.Acting
	res.ID, res.Branch, res.Runbook, res.Risk = act.ID, act.Branch, act.Runbook, act.Risk
	log = log.With("remediation_id", act.ID, "runbook", act.Runbook)
	if a.Status == intake.StatusResolved {
		return p.resolved(ctx, res, log)
	}
	rb := p.Catalog.Runbook(act.Runbook)
	pol := p.Catalog.Policy(d.Policy)
	if pol == nil {
		pol = runbooks.DefaultPolicy()
	}
	if err := p.Infra.Fetch(ctx); err != nil {
		return res, err
	}
	branchHead, branchExists := p.Infra.Branch(act.Branch)
	prop, found, err := p.Forge.Lookup(ctx, act.Branch)
	if err != nil {
		return res, err
	}
	switch {
	case found && prop.RejectedBy != "":
		// Closed by someone other than the remediator: a rejection, whatever labels
		// it carries, and one a reopen does not undo.
		if r, done := rejectedProposal(res, prop, rb.Spec.Cooldown.Std(), p.Now()); done {
			log.Info("suppressed", "action", r.Action, "reason", r.Reason)
			return r, nil
		}
	case found && prop.State == forge.Open:
		return p.recur(ctx, res, prop, branchHead, a, pol, dryRun, log)
	case branchExists && !found:
		// The branch was pushed but its proposal never opened (a crash between the
		// two, or a forge that refused): open it now from what the branch records.
		ours, err := p.ownBranch(branchHead, act.ID)
		if err != nil {
			return res, err
		}
		if !ours {
			res.Action = Suppressed
			res.Reason = fmt.Sprintf("branch %s exists but is not a proposal of %s; it is never overwritten", act.Branch, act.ID)
			log.Warn("suppressed", "action", res.Action, "reason", res.Reason)
			return res, nil
		}
		return p.reopen(ctx, res, branchHead, a, pol, dryRun, log)
	case found && prop.State == forge.Closed && !slices.Contains(prop.Labels, forge.LabelResolved) && !slices.Contains(prop.Labels, forge.LabelSuperseded):
		// Rejected by a reviewer (not withdrawn because the anomaly resolved, nor
		// superseded by a change of the catalog).
		if cd := rb.Spec.Cooldown.Std(); cd > 0 && p.Now().Before(prop.Closed.Add(cd)) {
			res.Action = Suppressed
			res.Reason = fmt.Sprintf("the proposal %s was closed without merge at %s; suppressed until %s (cooldown)",
				prop.URL, prop.Closed.UTC().Format(time.RFC3339), prop.Closed.Add(cd).UTC().Format(time.RFC3339))
			log.Info("suppressed", "action", res.Action, "reason", res.Reason)
			return res, nil
		}
	}
	if reason, err := p.breaker(rb, pol); err != nil || reason != "" {
		if err == nil {
			res.Action, res.Reason = Suspended, reason
			log.Warn("runbook suspended", "action", res.Action, "reason", reason)
		}
		return res, err
	}
	if reason, err := p.gate(ctx, rb, pol, act.ID); err != nil || reason != "" {
		if err == nil {
			res.Action, res.Reason = Suppressed, reason
			log.Info("suppressed", "action", res.Action, "reason", reason)
		}
		return res, err
	}
	// A closed or merged proposal's branch may still be there: the new proposal
	// replaces it, from exactly the head seen (compare-and-swap).
	var replace plumbing.Hash
	if branchExists {
		replace = branchHead
	}
	return p.open(ctx, res, d, rb, pol, a, replace, dryRun, log)
}

// resolved handles an anomaly that resolved: an open proposal for it is closed with
// the reason (the fix is no longer needed), otherwise there is nothing to do.
func (p *Proposer) resolved(ctx context.Context, res Result, log *slog.Logger) (Result, error) {
	if err := p.Infra.Fetch(ctx); err != nil {
		return res, err
	}
	prop, found, err := p.Forge.Lookup(ctx, res.Branch)
	if err != nil {
		return res, err
	}
	if !found || prop.State != forge.Open {
		res.Action, res.Reason = Suppressed, "the anomaly has already resolved"
		log.Info("nothing to propose", "action", res.Action, "reason", res.Reason)
		return res, nil
	}
	reason := fmt.Sprintf("The anomaly resolved at %s before this proposal was merged: closing it. Remediation `%s` was not needed.",
		p.Now().UTC().Format(time.RFC3339), res.ID)
	if err := p.Forge.Close(ctx, prop, reason); err != nil {
		return res, err
	}
	res.Action, res.URL, res.Reason = Closed, prop.URL, "the anomaly resolved before the merge; the proposal was closed"
	log.Info("proposal closed", "action", res.Action, "url", prop.URL)
	return res, nil
}

// open builds the change on a work tree of the base, pushes it and opens the proposal.
func (p *Proposer) open(ctx context.Context, res Result, d decision.Decision, rb *runbooks.Runbook, pol *runbooks.Policy,
	a intake.Anomaly, replace plumbing.Hash, dryRun bool, log *slog.Logger) (Result, error) {
	act := d.Acting
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
		Verify:      artifact.VerifyOf(rb, pol),
		TraceParent: tracing.Inject(ctx),
	}
	if art.RunbookVersion, err = runbooks.Version(rb); err != nil {
		return res, err
	}
	art.Expected = expected(rb, pol, a)
	art.Limits = artifact.LimitsOf(rb, pol)
	art.Merge = mergeWindow(pol, p.Now())
	_, editSpan := p.span(ctx, "edit")
	files, err := p.applyChanges(ctx, wt, rb, a, protected, art)
	editSpan.End()
	if err != nil {
		return res, err
	}
	if len(files) == 0 {
		res.Action, res.Reason = Unchanged, "every change is already in place on "+p.Base
		for _, c := range rb.Spec.Changes {
			if c.Kind == runbooks.ChangeRevert {
				res.Reason = fmt.Sprintf("nothing to revert: no commit on %s within %s before the anomaly started changes %s", p.Base, c.Within, strings.Join(c.Paths, ", "))
			}
		}
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
	_, commitSpan := p.span(ctx, "commit")
	commit, err := wt.Commit(files, art.CommitMessage(), p.AuthorName, p.AuthorEmail, p.Now())
	commitSpan.End()
	if err != nil {
		return res, err
	}
	res.Commit = commit.Hash.String()
	if dryRun {
		res.Action, res.Reason = Opened, "dry run: nothing was pushed"
		res.Diff, err = wt.Diff(commit)
		return res, err
	}
	stat, err := wt.Stat(commit)
	if err != nil {
		return res, err
	}
	pushCtx, pushSpan := p.span(ctx, "push")
	err = wt.PushOver(pushCtx, commit, act.Branch, replace)
	pushSpan.End()
	if err != nil {
		if errors.Is(err, infrarepo.ErrBranchExists) {
			res.Action, res.Reason, res.Commit = Updated, "another writer opened this proposal first", ""
			log.Info("proposal raced", "action", res.Action)
			return res, nil
		}
		return res, err
	}
	req := p.request(art, act.Branch, commit.Hash.String(), pol, a)
	req.DiffStat = diffStat(stat)
	forgeCtx, forgeSpan := p.span(ctx, "forge.open")
	prop, err := p.Forge.Open(forgeCtx, req)
	forgeSpan.End()
	if err != nil {
		// The branch is pushed: the next occurrence (or the queue's retry) opens
		// the proposal from it.
		return res, fmt.Errorf("open proposal for %s: %w", act.Branch, err)
	}
	res.Action, res.URL = Opened, prop.URL
	if !art.Merge.Allowed {
		res.Reason = "not mergeable yet: " + art.Merge.Reason
	}
	log.Info("proposal opened", "mergeable", art.Merge.Allowed, "action", res.Action, "branch", act.Branch,
		"commit", res.Commit, "files", len(files)-1, "url", prop.URL)
	return res, nil
}

func (p *Proposer) applyChanges(_ context.Context, wt *infrarepo.WorkTree, rb *runbooks.Runbook, a intake.Anomaly,
	protected []string, art *artifact.Artifact) ([]string, error) {
	var files []string
	for i, c := range rb.Spec.Changes {
		if c.Kind == runbooks.ChangeRevert {
			reverted, err := p.revert(wt, rb, i, c, protected, art)
			if err != nil {
				return nil, err
			}
			files = append(files, reverted...)
			continue
		}
		ea := edits.Anomaly{Labels: a.Labels, Annotations: a.Annotations, Value: a.Value}
		target, err := edits.Target(c.File, ea)
		if err != nil {
			return nil, &InputError{fmt.Errorf("runbook %s change %d: %w", rb.Metadata.Name, i, err)}
		}
		if err := wt.Materialize(target); err != nil {
			return nil, err
		}
		e, err := edits.Apply(wt.Dir, c, ea, protected)
		if err != nil {
			return nil, &InputError{fmt.Errorf("runbook %s change %d: %w", rb.Metadata.Name, i, err)}
		}
		if e.Changed {
			files = append(files, e.File)
			art.Changes = append(art.Changes, artifact.Change{File: e.Path, Path: c.Path, From: fmt.Sprint(e.Current), To: fmt.Sprint(e.New)})
		}
	}
	return files, nil
}

// revert undoes the newest base commit within the change's window that touches its
// paths, for those paths. Nothing found is no change; a file changed again since, or
// a protected one, is refused.
func (p *Proposer) revert(wt *infrarepo.WorkTree, rb *runbooks.Runbook, i int, c runbooks.Change, protected []string, art *artifact.Artifact) ([]string, error) {
	// The patterns are path templates too: render them for this anomaly first.
	globs := make([]string, len(c.Paths))
	for j, src := range c.Paths {
		g, err := edits.Target(src, edits.Anomaly{Labels: art.Anomaly.Labels, Annotations: art.Anomaly.Annotations, Value: art.Anomaly.Value})
		if err != nil {
			return nil, &InputError{fmt.Errorf("runbook %s change %d: paths[%d]: %w", rb.Metadata.Name, i, j, err)}
		}
		globs[j] = g
	}
	match := func(name string) bool {
		for _, g := range globs {
			if ok, _ := doublestar.Match(g, name); ok {
				return true
			}
		}
		return false
	}
	// The suspects are the changes merged within `within` before the anomaly
	// started; one whose start is unknown started now.
	until := p.Now()
	if t, err := time.Parse(time.RFC3339, art.Anomaly.StartsAt); err == nil && !t.IsZero() && t.Before(until) {
		until = t
	}
	plan, err := p.Infra.PlanRevert(p.Base, infrarepo.Suspects{From: until.Add(-c.Within.Std()), Until: until}, match)
	if errors.Is(err, infrarepo.ErrRevertConflict) {
		return nil, &InputError{fmt.Errorf("runbook %s change %d: %w", rb.Metadata.Name, i, err)}
	}
	if err != nil || plan == nil {
		return nil, err
	}
	subject, _, _ := strings.Cut(plan.Commit.Message, "\n")
	art.Reverts = append(art.Reverts, artifact.Reverted{Commit: plan.Commit.Hash.String(), Subject: subject, Why: plan.Why})
	var files []string
	for _, f := range plan.Files {
		if pattern, bad := runbooks.ProtectedMatch(f.Path, protected); bad {
			return nil, &InputError{fmt.Errorf("runbook %s change %d: the revert of %s would change %s, which is protected (%s)",
				rb.Metadata.Name, i, plan.Commit.Hash.String()[:12], f.Path, pattern)}
		}
		dst := filepath.Join(wt.Dir, filepath.FromSlash(f.Path))
		if f.Delete {
			if err := os.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		} else {
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(dst, f.Content, 0o644); err != nil {
				return nil, err
			}
		}
		to := "the content before " + plan.Commit.Hash.String()[:12]
		if f.Delete {
			to = "deleted"
		}
		files = append(files, f.Path)
		art.Changes = append(art.Changes, artifact.Change{File: f.Path, Path: "revert " + plan.Commit.Hash.String()[:12], From: oneLine(subject), To: to})
	}
	return files, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// request is what the forge is told about a proposal.
func (p *Proposer) request(art *artifact.Artifact, branch, head string, pol *runbooks.Policy, a intake.Anomaly) forge.Request {
	return forge.Request{
		Branch: branch, Base: p.Base, Head: head, Artifact: art, Reviewers: pol.Spec.RequiredReviewers,
		Seen: p.Now(), Value: a.Value,
	}
}

func diffStat(stat []infrarepo.FileStat) []forge.FileStat {
	out := make([]forge.FileStat, len(stat))
	for i, s := range stat {
		out[i] = forge.FileStat{File: s.File, Additions: s.Additions, Deletions: s.Deletions}
	}
	return out
}

// ownBranch says whether the branch head is the remediator's own proposal commit of
// this id (signed with its key): a branch someone else pushed under the name is
// never opened as a proposal.
func (p *Proposer) ownBranch(head plumbing.Hash, id string) (bool, error) {
	c, err := p.Infra.Commit(head)
	if err != nil {
		return false, err
	}
	return lifecycle.Provenance(c, id, p.Infra.Signer.Public()) == "", nil
}

// branchRequest rebuilds the forge request from what the proposal branch records:
// its artifact and its change, so a refreshed description equals the first one.
func (p *Proposer) branchRequest(head plumbing.Hash, id, branch string, pol *runbooks.Policy, a intake.Anomaly) (forge.Request, error) {
	data, err := p.Infra.ReadFile(head, artifact.Path(id))
	if err != nil {
		return forge.Request{}, err
	}
	art, err := artifact.Decode(data)
	if err != nil {
		return forge.Request{}, err
	}
	stat, err := p.Infra.Stat(head)
	if err != nil {
		return forge.Request{}, err
	}
	req := p.request(art, branch, head.String(), pol, a)
	req.DiffStat = diffStat(stat)
	return req, nil
}

// recur handles a repeat of an anomaly whose proposal is open.
func (p *Proposer) recur(ctx context.Context, res Result, prop forge.Proposal, head plumbing.Hash, a intake.Anomaly,
	pol *runbooks.Policy, dryRun bool, log *slog.Logger) (Result, error) {
	res.Action, res.URL = Updated, prop.URL
	if dryRun {
		res.Reason = "dry run: the open proposal would count this recurrence"
		return res, nil
	}
	req, err := p.branchRequest(head, res.ID, res.Branch, pol, a)
	if err != nil {
		return res, err
	}
	n, err := p.Forge.Recur(ctx, prop, req)
	if err != nil {
		return res, err
	}
	res.Recurrences = n
	res.Reason = fmt.Sprintf("the proposal is already open; recurrence %d counted", n)
	log.Info("proposal exists", "action", res.Action, "branch", res.Branch, "recurrences", n, "url", prop.URL)
	return res, nil
}

// reopen opens the proposal of a branch that was pushed without one.
func (p *Proposer) reopen(ctx context.Context, res Result, head plumbing.Hash, a intake.Anomaly, pol *runbooks.Policy,
	dryRun bool, log *slog.Logger) (Result, error) {
	res.Action, res.Commit = Opened, head.String()
	if dryRun {
		res.Reason = "dry run: the pushed branch's proposal would be opened"
		return res, nil
	}
	req, err := p.branchRequest(head, res.ID, res.Branch, pol, a)
	if err != nil {
		return res, err
	}
	prop, err := p.Forge.Open(ctx, req)
	if err != nil {
		return res, fmt.Errorf("open proposal for %s: %w", res.Branch, err)
	}
	res.URL, res.Reason = prop.URL, "the branch was pushed earlier without its proposal; opened it now"
	log.Info("proposal opened from an existing branch", "action", res.Action, "branch", res.Branch, "url", prop.URL)
	return res, nil
}

func expected(rb *runbooks.Runbook, pol *runbooks.Policy, a intake.Anomaly) string {
	what := "the triggering alert resolves"
	if name := a.Labels["alertname"]; name != "" {
		what = fmt.Sprintf("alert %s resolves", name)
	}
	if !rb.Spec.Verify.AlertResolved {
		what = "the verification query holds"
	} else if rb.Spec.Verify.PromQL != "" {
		what += " and the verification query holds"
	}
	return fmt.Sprintf("%s within %s of the change being applied (check %s), and stays so for %s",
		what, rb.Spec.Verify.Within, runbooks.AppliedCheck(rb, pol), rb.Spec.Verify.Soak)
}

// breaker applies the policy's circuit breaker to the runbook.
func (p *Proposer) breaker(rb *runbooks.Runbook, pol *runbooks.Policy) (string, error) {
	h := lifecycle.History{Repo: p.Infra, Base: p.Base, Remediator: p.Infra.Signer.Public(), Now: p.Now()}
	return h.Suspended(rb, pol)
}

// gate applies the runbook's cooldown, counted from the base branch's history, and the
// policy's limits, counted from the forge's proposals. It returns why the anomaly is
// suppressed, or "".
func (p *Proposer) gate(ctx context.Context, rb *runbooks.Runbook, pol *runbooks.Policy, id string) (string, error) {
	now := p.Now()
	if cd := rb.Spec.Cooldown.Std(); cd > 0 {
		// Graph order and the remediator's own merges: a back-dated commit on the base
		// hides nothing, and a trailer anyone can write starts nothing.
		m, err := lifecycle.LastMerged(p.Infra, p.Base, id, now.Add(-cd), p.Infra.Signer.Public())
		if err != nil {
			return "", err
		}
		if m != nil {
			last := m.Committer.When
			return fmt.Sprintf("cooldown: this target was last remediated at %s; quiet until %s",
				last.UTC().Format(time.RFC3339), last.Add(cd).UTC().Format(time.RFC3339)), nil
		}
		// A rejection (a proposal withdrawn by a reviewer) starts the cooldown too,
		// from when the remediator saw it (its own sealed clock, not a commit date).
		j, rejected, err := lifecycle.RejectionOf(p.Infra, id, p.Infra.Signer.Public())
		if err != nil {
			return "", err
		}
		if rejected && now.Before(j.At.Add(cd)) {
			return fmt.Sprintf("cooldown: this target's proposal was rejected at %s (%s); quiet until %s",
				j.At.UTC().Format(time.RFC3339), j.Reason, j.At.Add(cd).UTC().Format(time.RFC3339)), nil
		}
	}
	limits := pol.Spec.Limits
	if limits.MaxOpen == 0 && limits.PerHour == 0 && !p.Limits.Any() {
		return "", nil
	}
	props, err := p.Forge.Proposals(ctx, now.Add(-time.Hour))
	if err != nil {
		return "", err
	}
	var c decision.Counts
	for _, pr := range props {
		c.Add(pr.State == forge.Open, pr.Created.After(now.Add(-time.Hour)), pr.Policy == pol.Metadata.Name, pr.Runbook == rb.Metadata.Name)
	}
	return decision.OverLimit(pol, rb.Metadata.Name, p.Limits, c), nil
}

// mergeWindow says whether the policy's windows allow a merge now. Outside them the
// proposal is still opened, marked as not mergeable until a window opens.
func mergeWindow(pol *runbooks.Policy, now time.Time) artifact.Merge {
	if why := pol.MergeBlocked(now); why != "" {
		return artifact.Merge{Allowed: false, Reason: why}
	}
	return artifact.Merge{Allowed: true}
}

// rejectedProposal suppresses the anomaly of a proposal someone other than the
// remediator closed: for the runbook's cooldown from the close, and for as long as
// the proposal stays open after a reopen (the remediator never merges it). done is
// false once a closed proposal's cooldown is over: a fresh proposal replaces it.
func rejectedProposal(res Result, prop forge.Proposal, cooldown time.Duration, now time.Time) (Result, bool) {
	at := prop.RejectedAt.UTC().Format(time.RFC3339)
	switch {
	case cooldown > 0 && now.Before(prop.RejectedAt.Add(cooldown)):
		res.Action = Suppressed
		res.Reason = fmt.Sprintf("the proposal %s was closed without merge by %s at %s, a rejection; suppressed until %s (cooldown)",
			prop.URL, prop.RejectedBy, at, prop.RejectedAt.Add(cooldown).UTC().Format(time.RFC3339))
		return res, true
	case prop.State == forge.Open:
		res.Action = Suppressed
		res.Reason = fmt.Sprintf("the proposal %s was closed by %s at %s and reopened: the remediator never merges it; close it to let the remediator propose again",
			prop.URL, prop.RejectedBy, at)
		return res, true
	}
	return res, false
}
