package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Result is what one pass did with one proposal or one merged remediation.
type Result struct {
	ID        string          `json:"id"`
	Branch    string          `json:"branch"`
	Head      string          `json:"head"`
	Action    decision.Action `json:"action"`
	Reason    string          `json:"reason,omitempty"`
	Approvers []string        `json:"approvers,omitempty"`
	Merge     string          `json:"merge,omitempty"`
	// URL is where the proposal is reviewed, where the forge has one.
	URL string `json:"url,omitempty"`
	// TraceID is the anomaly's trace, when its proposal recorded one.
	TraceID string `json:"trace_id,omitempty"`
	// Need is what the proposal needs to merge, once the catalog's terms are known.
	Need *records.Need `json:"need,omitempty"`
}

// Reconciler merges the local forge's proposals that pass their gates.
type Reconciler struct {
	Infra       *infrarepo.Repo
	Catalog     *runbooks.Catalog
	Base        string
	AuthorName  string
	AuthorEmail string
	Now         func() time.Time
	Logger      *slog.Logger
	// Verifier checks merged remediations; nil leaves their outcome to someone else.
	Verifier Checker
	// Opener opens rollback proposals on forges where a branch alone is not one.
	Opener Opener
	// Reproposer proposes the anomaly of a superseded proposal again under the
	// current catalog; nil leaves that to its next alert.
	Reproposer Reproposer
	// Closer withdraws proposals whose anomaly resolved before their merge (when
	// the Verifier can tell, see Resolver); nil leaves them open.
	Closer Closer
	// Reporter shows outcomes on the forge; nil reports them in Git only.
	Reporter Reporter
	// Facts answers for checks and team membership; nil on the local forge means
	// the checks note and Teams.
	Facts records.Facts
	// Teams are the members of each "org/team" on the local forge: principals of
	// the allowed-signers file.
	Teams map[string][]string
	// Router routes the recorded anomalies through the catalog; nil compiles one.
	Router *runbooks.Router
	// Reviewers are the keys approvals on the local forge are signed with, and
	// check reports too.
	Reviewers *signing.AllowedSigners
	// CheckReporters are the principals whose signed check reports count on the
	// local forge; none means no report counts.
	CheckReporters []string
	// Tracer continues each anomaly's trace (from its artifact) with the pass's
	// gates, merge and verification; nil traces nothing.
	Tracer trace.Tracer
	// DryRun reads only: nothing is merged, closed, reported, proposed or recorded.
	// Each proposal says what a pass would do, and each merged remediation without
	// an outcome where its verification stands.
	DryRun bool
	// Only, when set, narrows a pass on GitHub to the pull requests and commits
	// webhook deliveries named.
	Only *Targets
	// ReportSteps makes a pass say, as a dry run does, the step each merged
	// remediation still on its way waits on (Verifying): serve's passes, whose last
	// one the status page and `status` show on GitHub.
	ReportSteps bool
}

// facts returns the forge's facts, the local forge's by default.
func (r *Reconciler) facts() records.Facts {
	if r.Facts != nil {
		return r.Facts
	}
	return records.NewLocalFacts(r.Infra, r.Teams, records.CheckTrust{Signers: r.Reviewers, Reporters: r.CheckReporters, Now: r.Now()})
}

// Run makes one pass over the open proposals.
func (r *Reconciler) Run(ctx context.Context) ([]Result, error) {
	if err := r.Infra.Fetch(ctx); err != nil {
		return nil, err
	}
	if err := r.restoreDeleted(ctx); err != nil {
		return nil, err
	}
	if err := r.sealReverts(ctx); err != nil {
		return nil, err
	}
	branches, err := r.Infra.Branches(decision.BranchPrefix)
	if err != nil {
		return nil, err
	}
	if err := r.vanished(ctx, branches); err != nil {
		return nil, err
	}
	var out []Result
	var errs []error
	for _, b := range branches {
		head, _ := r.Infra.Branch(b)
		merged, err := r.Infra.IsMerged(head, r.Base)
		if err != nil {
			return out, err
		}
		if merged {
			continue
		}
		o, err := r.one(ctx, b, head)
		if err != nil {
			// One proposal the pass cannot finish holds up none of the others.
			r.Logger.Error("reconcile of a proposal failed", "branch", b, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", b, err))
			continue
		}
		if o.ID == "" {
			continue // not a proposal
		}
		r.log(o, "branch", b)
		out = append(out, o)
	}
	return r.verifyAfter(ctx, out, errs)
}

// log reports what a pass did with one proposal.
func (r *Reconciler) log(o Result, where ...any) {
	log := r.Logger.With(append([]any{"remediation_id", o.ID, "runbook", decision.RunbookOf(o.ID), "head", o.Head}, where...)...)
	if o.TraceID != "" {
		log = log.With("trace_id", o.TraceID)
	}
	switch o.Action {
	case decision.Merged:
		log.Info("proposal merged", "merge", o.Merge, "approvers", strings.Join(o.Approvers, ", "))
	case decision.Closed:
		log.Info("proposal closed", "reason", o.Reason)
	case decision.WouldMerge, decision.WouldClose, decision.Verifying:
		log.Info("dry run", "action", o.Action, "reason", o.Reason)
	default:
		log.Info("proposal waits", "reason", o.Reason)
	}
}

// verifyAfter ends a pass: merged remediations are checked when a verifier is set;
// a dry run lists them either way, with the step each waits on.
// The errors of the proposals the pass could not finish come back with it.
func (r *Reconciler) verifyAfter(ctx context.Context, out []Result, errs []error) ([]Result, error) {
	if r.Verifier != nil || r.DryRun {
		checked, err := r.verifyMerged(ctx)
		out = append(out, checked...)
		errs = append(errs, err)
	}
	errs = append(errs, r.rememberTips())
	return out, errors.Join(errs...)
}

func (r *Reconciler) one(ctx context.Context, branch string, head plumbing.Hash) (Result, error) {
	c, err := r.Infra.Commit(head)
	if err != nil {
		return Result{}, err
	}
	// The id comes from the branch, not the head commit: the branch names the
	// proposal; everything else is checked.
	id := strings.TrimPrefix(branch, decision.BranchPrefix)
	o := Result{ID: id, Branch: branch, Head: head.String(), Action: decision.Waiting}
	data, err := r.Infra.ReadFile(head, artifact.Path(id))
	if err != nil {
		return Result{}, nil //nolint:nilerr // no artifact: a branch a person made, not a proposal
	}
	if reason := records.Provenance(c, id, r.Infra.Signer.Public()); reason != "" {
		o.Reason = reason
		return o, nil
	}
	if reason, err := r.rejected(id, head); err != nil || reason != "" {
		o.Reason = reason
		return o, err
	}
	if reason, err := r.closedHead(id, head); err != nil || reason != "" {
		o.Reason = reason
		return o, err
	}
	art, err := artifact.Decode(data)
	if err != nil {
		o.Reason = err.Error()
		return o, nil //nolint:nilerr // reported, never merged
	}
	ctx, span := r.span(ctx, art, "reconcile")
	defer span.End()
	o.TraceID = tracing.TraceID(ctx)
	t, refusal := records.TermsOf(r.Catalog, r.router(), id, art)
	if refusal != nil && refusal.Superseded {
		return r.supersede(ctx, art, forge.Proposal{ID: id, Branch: branch, Head: head.String()}, o, refusal.Reason)
	}
	if refusal != nil {
		o.Reason = refusal.Reason
		return o, nil
	}
	if o, done, err := r.closeIfResolved(ctx, art, forge.Proposal{ID: id, Branch: branch, Head: head.String()}, o); done || err != nil {
		return o, err
	}
	note, _, err := r.Infra.Note(records.ApprovalsRef, head)
	if err != nil {
		return o, err
	}
	entries, unreadable := records.ParseApprovals(note)
	counted, ignored := records.Counted(head.String(), entries, r.trust(c.Author.Name, c.Author.Email))
	ignored = append(ignored, unreadable...)
	for _, a := range counted {
		o.Approvers = append(o.Approvers, a.String())
	}
	gateCtx, gateSpan := r.span(ctx, nil, "gates")
	in := gateInput{art: art, terms: t, head: head, counted: counted, ignored: ignored, outcome: &o}
	reason, err := r.gate(gateCtx, in)
	gateSpan.SetAttributes(attribute.String("gates.waiting", reason))
	gateSpan.End()
	if err != nil || reason != "" {
		o.Reason = reason
		return o, err
	}
	if r.DryRun {
		o.Action, o.Reason = decision.WouldMerge, "passes every gate"
		return o, nil
	}
	return r.merge(ctx, o, in, c.Message)
}

// merge merges a proposal that passed every gate. Its signed commit names the
// evidence the pass decided on, and commits to its records' tips, so that a note
// rewound or a record deleted later is visible.
func (r *Reconciler) merge(ctx context.Context, o Result, in gateInput, proposalMessage string) (Result, error) {
	ev, err := r.decidedOn(in)
	if err != nil {
		return o, err
	}
	msg := MergeMessage(in.art, proposalMessage, in.counted) + records.DecidedTrailers(ev) + records.CurrentTips(r.Infra).Trailers()
	head := in.head
	mergeCtx, mergeSpan := r.span(ctx, nil, "merge")
	mc, err := r.Infra.Merge(mergeCtx, r.Base, head, msg, r.by(r.Now()))
	mergeSpan.End()
	if errors.Is(err, infrarepo.ErrBaseMoved) || errors.Is(err, infrarepo.ErrMergeConflict) {
		o.Reason = err.Error()
		return o, nil
	}
	if err != nil {
		return o, err
	}
	o.Action, o.Merge = decision.Merged, mc.Hash.String()
	return o, nil
}

// decidedOn is the evidence the pass decides on: the approvals it counted and, on the
// local forge, the check reports that made the policy's required checks green.
func (r *Reconciler) decidedOn(in gateInput) ([]records.DecidedOn, error) {
	var reports []records.CheckReport
	if names := in.terms.Policy.Spec.RequiredChecks; r.Facts == nil && len(names) > 0 {
		all, err := records.LocalReports(r.Infra, in.head)
		if err != nil {
			return nil, fmt.Errorf("read the checks of %s: %w", in.head, err)
		}
		trust := records.CheckTrust{Signers: r.Reviewers, Reporters: r.CheckReporters, Now: r.Now()}
		reports = trust.Winners(in.head.String(), all, names)
	}
	return records.Decided(in.counted, reports), nil
}

// history is the base's history as the evidence this remediator's key vouches for.
func (r *Reconciler) history(now time.Time) records.History {
	return records.History{Repo: r.Infra, Base: r.Base, Remediator: r.Infra.Signer.Public(), Now: now}
}

// span starts a step of a pass in the anomaly's trace: with an artifact, the trace
// its proposal recorded; without, a child of ctx's span.
func (r *Reconciler) span(ctx context.Context, art *artifact.Artifact, name string) (context.Context, trace.Span) {
	tracer := tracing.Or(r.Tracer)
	if art == nil {
		return tracer.Start(ctx, name)
	}
	return tracer.Start(tracing.Extract(ctx, art.TraceParent), name,
		trace.WithAttributes(tracing.RemediationID.String(art.ID), tracing.Runbook.String(art.Runbook), tracing.Policy.String(art.Policy)))
}

// router compiles the catalog's router once.
func (r *Reconciler) router() *runbooks.Router {
	if r.Router == nil {
		router, err := runbooks.NewRouter(r.Catalog)
		if err != nil {
			// A catalog that loaded compiles; this is a programming error.
			panic(fmt.Sprintf("router of a loaded catalog: %v", err))
		}
		r.Router = router
	}
	return r.Router
}

// trust is what approvals are checked against: the reviewers' keys, and never the
// proposal's author.
func (r *Reconciler) trust(excluded ...string) records.Trust {
	t := records.Trust{Reviewers: r.Reviewers, Remediator: r.Infra.Signer.Public(), AcceptForge: r.Facts != nil, Reporters: r.CheckReporters, Now: r.Now()}
	t.Excluded = append(t.Excluded, r.AuthorName, r.AuthorEmail)
	t.Excluded = append(t.Excluded, excluded...)
	return t
}

// gateInput is one proposal at the gates.
type gateInput struct {
	art     *artifact.Artifact
	terms   records.Terms
	head    plumbing.Hash
	counted []records.Approval
	ignored []string
	// outcome, when set, is told what the proposal needs.
	outcome *Result
}

// gate returns why the proposal cannot merge now, or "". Every input is the
// catalog's (the terms); cheap local checks come first, the forge is asked about
// teams and checks only when the rest passes, and the scope of the change is checked
// last, right before the merge.
func (r *Reconciler) gate(ctx context.Context, in gateInput) (string, error) {
	pol := in.terms.Policy
	now := r.Now()
	// Autonomy is earned per runbook version: the one the artifact records, which
	// the terms have checked is the catalog's.
	need, err := records.NeedOf(pol, in.terms.Risk, func() (records.Record, error) {
		return r.history(now).RecordOf(in.art.Runbook, in.art.RunbookVersion)
	})
	if err != nil {
		return "", err
	}
	if in.outcome != nil {
		in.outcome.Need = &need
	}
	// Whatever else it waits on: a failure seen now still counts after a rewind.
	if err := r.rememberNotGreen(ctx, in.head, pol.Spec.RequiredChecks); err != nil {
		return "", err
	}
	if len(in.counted) < need.Approvals {
		reason := fmt.Sprintf("%d of %d approval(s) on the head commit", len(in.counted), need.Approvals)
		if len(in.ignored) > 0 {
			reason += " (not counted: " + strings.Join(in.ignored, "; ") + ")"
		}
		if need.Why != "" {
			reason += "; " + need.Why
		}
		return reason, nil
	}
	if why := pol.MergeBlocked(now); why != "" {
		return why, nil
	}
	if in.terms.Runbook != nil && in.art.RollbackOf == "" {
		if reason, err := r.history(now).Suspended(in.terms.Runbook, pol); err != nil || reason != "" {
			return reason, err
		}
	}
	for _, want := range pol.Spec.RequiredReviewers {
		if reason := r.requiredReviewer(ctx, want, in.counted); reason != "" {
			return reason, nil
		}
	}
	reason, err := r.requiredChecks(ctx, pol, in.head.String())
	if err != nil || reason != "" {
		return reason, err
	}
	if in.art.RollbackOf == "" {
		var cooldown time.Duration
		if in.terms.Runbook != nil {
			cooldown = in.terms.Runbook.Spec.Cooldown.Std()
		}
		if reason, err := r.mergedBefore(in, in.art.ID, cooldown); err != nil || reason != "" {
			return reason, err
		}
	}
	return records.Scope(r.Infra, r.Base, in.head, in.art, in.terms)
}

// requiredReviewer returns why the approvals lack the required user or team, or "".
func (r *Reconciler) requiredReviewer(ctx context.Context, want string, counted []records.Approval) string {
	if strings.Contains(want, "/") {
		var failed []string
		for _, a := range counted {
			in, err := r.facts().TeamMember(ctx, want, a.Principal)
			if err != nil {
				failed = append(failed, err.Error())
				continue
			}
			if in {
				return ""
			}
		}
		reason := fmt.Sprintf("no approval on this commit from a member of required team %s", want)
		if len(failed) > 0 {
			reason += " (membership unknown: " + strings.Join(dedupe(failed), "; ") + ")"
		}
		return reason
	}
	for _, a := range counted {
		if a.Is(want) {
			return ""
		}
	}
	return fmt.Sprintf("required reviewer %s has not approved this commit", want)
}

// requiredChecks returns which of the policy's required checks is not green on the
// head commit; one not reported yet is not green (the rule "an approval is an identity", remediator/TRUST.md).
func (r *Reconciler) requiredChecks(ctx context.Context, pol *runbooks.Policy, head string) (string, error) {
	if len(pol.Spec.RequiredChecks) == 0 {
		return "", nil
	}
	got, err := r.facts().Checks(ctx, head)
	if err != nil {
		return "", fmt.Errorf("checks of %s: %w", head, err)
	}
	var missing, pending, failed []string
	for _, name := range pol.Spec.RequiredChecks {
		switch state, ok := got[name]; {
		case !ok:
			missing = append(missing, name)
		case state == forge.CheckPending:
			pending = append(pending, name)
		case state != forge.CheckSuccess:
			failed = append(failed, name)
		}
	}
	var parts []string
	if len(failed) > 0 {
		parts = append(parts, "failed: "+strings.Join(failed, ", "))
	}
	if len(pending) > 0 {
		parts = append(parts, "still running: "+strings.Join(pending, ", "))
	}
	if len(missing) > 0 {
		parts = append(parts, "not reported yet: "+strings.Join(missing, ", "))
	}
	if len(parts) == 0 {
		return "", nil
	}
	return "required checks not green on the head commit (" + strings.Join(parts, "; ") + ")", nil
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// MergeMessage is the merge commit's message: what is merged, then the proposal's
// trailers and one Approved-by per counted approver.
func MergeMessage(art *artifact.Artifact, proposalMessage string, approvers []records.Approval) string {
	title, _, _ := strings.Cut(proposalMessage, "\n")
	var b strings.Builder
	fmt.Fprintf(&b, "Merge remediation %s\n\n%s\n\n", art.ID, title)
	for _, t := range art.Trailers() {
		fmt.Fprintf(&b, "%s: %s\n", t[0], t[1])
	}
	for _, a := range approvers {
		fmt.Fprintf(&b, "Approved-by: %s\n", a.String())
	}
	return b.String()
}

// by is the remediator's signature on a commit it makes at when (a merge, a notes
// commit): its configured author.
func (r *Reconciler) by(when time.Time) object.Signature {
	return object.Signature{Name: r.AuthorName, Email: r.AuthorEmail, When: when}
}
