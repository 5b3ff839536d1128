// Package propose turns one anomaly into a proposal on the infrastructure repository:
// decide, check out the base, apply the runbook's edits, commit them with the
// artifact and trailers on remediation/<id>, and push with compare-and-swap. The same
// anomaly always lands on the same branch; a repeat never opens a second proposal.
package propose

import (
	"context"

	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/bounds"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/go-git/go-git/v5/plumbing"
)

// Result is what became of one anomaly.
type Result struct {
	ID      string          `json:"id"`
	Branch  string          `json:"branch"`
	Action  decision.Action `json:"action"`
	Runbook string          `json:"runbook"`
	Policy  string          `json:"policy"`
	Risk    string          `json:"risk"`
	Reason  string          `json:"reason,omitempty"`
	Commit  string          `json:"commit,omitempty"`
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
		span.SetAttributes(tracing.RemediationID.String(res.ID), tracing.Runbook.String(res.Runbook), tracing.Policy.String(res.Policy), tracing.Action.String(string(res.Action)))
		if err != nil {
			span.RecordError(err)
		}
		span.End()
	}()
	pr := p.route(ctx, a, dryRun)
	if pr.d.Acting == nil {
		pr.res.Action, pr.res.Reason = decision.NoMatch, "no enabled runbook handles this anomaly"
		pr.log.Info("no runbook acts", "action", pr.res.Action, "policy", pr.d.Policy)
		return pr.res, nil
	}
	if a.Status == intake.StatusResolved {
		return p.resolved(ctx, pr.res, pr.log)
	}
	return pr.propose(ctx)
}

// route asks the catalog which runbook acts on the anomaly and under which policy:
// the proposal to make, if any (Decision.Acting nil: none).
func (p *Proposer) route(ctx context.Context, a intake.Anomaly, dryRun bool) *proposal {
	_, routeSpan := p.span(ctx, "route")
	d := decision.Decide(p.Router, a.Subject())
	routeSpan.End()
	pr := &proposal{p: p, d: d, a: a, dryRun: dryRun, res: Result{Policy: d.Policy}}
	pr.log = p.Logger.With("fingerprint", a.Fingerprint)
	if id := tracing.TraceID(ctx); id != "" {
		pr.log = pr.log.With("trace_id", id)
	}
	if d.Acting == nil {
		return pr
	}
	act := d.Acting
	pr.res.ID, pr.res.Branch, pr.res.Runbook, pr.res.Risk = act.ID, act.Branch, act.Runbook, act.Risk
	pr.log = pr.log.With("remediation_id", act.ID, "runbook", act.Runbook)
	pr.rb = p.Catalog.Runbook(act.Runbook)
	if pr.pol = p.Catalog.Policy(d.Policy); pr.pol == nil {
		pr.pol = runbooks.DefaultPolicy()
	}
	return pr
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
		res.Action, res.Reason = decision.Suppressed, "the anomaly has already resolved"
		log.Info("nothing to propose", "action", res.Action, "reason", res.Reason)
		return res, nil
	}
	reason := fmt.Sprintf("The anomaly resolved at %s before this proposal was merged: closing it. Remediation `%s` was not needed.",
		p.Now().UTC().Format(time.RFC3339), res.ID)
	if err := p.Forge.Close(ctx, prop, reason); err != nil {
		return res, err
	}
	res.Action, res.URL, res.Reason = decision.Closed, prop.URL, "the anomaly resolved before the merge; the proposal was closed"
	log.Info("proposal closed", "action", res.Action, "url", prop.URL)
	return res, nil
}

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
	h := records.History{Repo: p.Infra, Base: p.Base, Remediator: p.Infra.Signer.Public(), Now: p.Now()}
	return h.Suspended(rb, pol)
}

// gate applies the runbook's cooldown, counted from the base branch's history, and the
// policy's limits, counted from the forge's proposals and the reservations other
// replicas pushed that the forge does not list yet. It returns why the anomaly is
// suppressed, or "", and the reservation the proposal's push must make.
func (p *Proposer) gate(ctx context.Context, rb *runbooks.Runbook, pol *runbooks.Policy, id string) (string, reservation, error) {
	now := p.Now()
	if why, err := p.cooldown(rb, id, now); err != nil || why != "" {
		return why, reservation{}, err
	}
	limits := pol.Spec.Limits
	if limits.MaxOpen == 0 && limits.PerHour == 0 && !p.Limits.Any() {
		return "", reservation{}, nil
	}
	props, err := p.Forge.Proposals(ctx, now.Add(-time.Hour))
	if err != nil {
		return "", reservation{}, err
	}
	var c decision.Counts
	for _, pr := range props {
		c.Add(pr.State == forge.Open, pr.Created.After(now.Add(-time.Hour)), pr.Policy == pol.Metadata.Name, pr.Runbook == rb.Metadata.Name)
	}
	// What other replicas pushed and the forge does not list yet: their
	// reservations, read from the ledger this proposal's push will move.
	ledger, head, err := p.Infra.Reservations()
	if err != nil {
		return "", reservation{}, err
	}
	for _, h := range ledger.Pending(listed(props, p.lease()), now, p.lease()) {
		if h.ID == id {
			// This proposal's push replaces its own older reservation (the
			// newest of an id is the one that counts): not counted twice.
			continue
		}
		// Open only while its branch is there: a proposal merged or closed and its
		// branch deleted is not open, whether or not the forge still lists it.
		_, branch := p.Infra.Branch(decision.Branch(h.ID))
		c.Add(h.Open && branch, h.LastHour, h.Policy == pol.Metadata.Name, h.Runbook == rb.Metadata.Name)
	}
	r := reservation{counted: true, ledger: ledger, head: head}
	return decision.OverLimit(pol, rb.Metadata.Name, p.Limits, c), r, nil
}

// reservation is what a counted proposal pushes with its branch: the ledger as the
// gate read it (head), so that the push is a compare-and-swap over the count.
type reservation struct {
	counted bool
	ledger  bounds.Ledger
	head    plumbing.Hash
}

// lease is how long a reservation counts as open before its proposal is opened.
func (p *Proposer) lease() time.Duration {
	if p.Limits.Lease > 0 {
		return p.Limits.Lease
	}
	return bounds.DefaultLease
}

// listed says whether the forge lists a reservation's proposal: one of its id made
// around the reservation (within the lease before it: the clocks of the replica and
// the forge differ) or later, not an older proposal of the same target.
func listed(props []forge.Proposal, lease time.Duration) func(bounds.Reservation) bool {
	return func(r bounds.Reservation) bool {
		for _, pr := range props {
			if pr.ID == r.ID && (pr.State == forge.Open || !pr.Created.Before(r.At.Add(-lease))) {
				return true
			}
		}
		return false
	}
}

// cooldown says why the target is quiet after its last merge or a rejection, or "".
func (p *Proposer) cooldown(rb *runbooks.Runbook, id string, now time.Time) (string, error) {
	cd := rb.Spec.Cooldown.Std()
	if cd <= 0 {
		return "", nil
	}
	// Graph order and the remediator's own merges: a back-dated commit on the base
	// hides nothing, and a trailer anyone can write starts nothing.
	m, err := records.LastMerged(p.Infra, p.Base, id, now.Add(-cd), p.Infra.Signer.Public())
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
	j, rejected, err := records.RejectionOf(p.Infra, id, p.Infra.Signer.Public())
	if err != nil {
		return "", err
	}
	if rejected && now.Before(j.At.Add(cd)) {
		return fmt.Sprintf("cooldown: this target's proposal was rejected at %s (%s); quiet until %s",
			j.At.UTC().Format(time.RFC3339), j.Reason, j.At.Add(cd).UTC().Format(time.RFC3339)), nil
	}
	return "", nil
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
		res.Action = decision.Suppressed
		res.Reason = fmt.Sprintf("the proposal %s was closed without merge by %s at %s, a rejection; suppressed until %s (cooldown)",
			prop.URL, prop.RejectedBy, at, prop.RejectedAt.Add(cooldown).UTC().Format(time.RFC3339))
		return res, true
	case prop.State == forge.Open:
		res.Action = decision.Suppressed
		res.Reason = fmt.Sprintf("the proposal %s was closed by %s at %s and reopened: the remediator never merges it; close it to let the remediator propose again",
			prop.URL, prop.RejectedBy, at)
		return res, true
	}
	return res, false
}
