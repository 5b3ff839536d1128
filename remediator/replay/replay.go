// Package replay answers "what would this catalog have done?": it plays historical
// anomalies against a catalog on a simulated clock, with the live loop's own rules
// (routing, dedupe, cooldown, policy and remediator limits, circuit breakers, change
// and freeze windows, approvals and earned auto-merge), and reports per anomaly what
// would have happened. Nothing is pushed or proposed.
package replay

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Actions in the order reports list them.
var Actions = []decision.Action{decision.Proposed, decision.AutoMerged, decision.Updated, decision.Suppressed, decision.Suspended, decision.NoMatch}

// Result is what would have become of one anomaly.
type Result struct {
	At      time.Time         `json:"at"`
	Labels  map[string]string `json:"labels"`
	Runbook string            `json:"runbook,omitempty"`
	Policy  string            `json:"policy,omitempty"`
	ID      string            `json:"id,omitempty"`
	Action  decision.Action   `json:"action"`
	Reason  string            `json:"reason"`
	// Approvals is how many the proposal would have needed (0 when it auto-merges).
	Approvals int `json:"approvals,omitempty"`
	// MergeAt is when an auto-merge would have happened (after any window).
	MergeAt *time.Time `json:"merge_at,omitempty"`
}

// Options shape a replay.
type Options struct {
	// Bounds are the remediator's own limits (configuration `limits`).
	Bounds decision.Bounds
	// Streaks seed each runbook's verified-in-a-row count at the start, by name (the
	// current version's record); merges during the replay add to it.
	Streaks map[string]int
	// Outcome says how an anomaly's merged remediation would end (verified or
	// failed); nil: verified.
	Outcome func(a intake.Anomaly) forge.Outcome
	// End is when the replayed period ends: anomalies still firing then close then.
	End time.Time
}

// proposal is a simulated open proposal.
type proposal struct {
	target          *target
	policy, runbook *tally
	closes          time.Time
}

// closing orders open proposals by when they close.
type closing []*proposal

func (c closing) Len() int           { return len(c) }
func (c closing) Less(i, j int) bool { return c[i].closes.Before(c[j].closes) }
func (c closing) Swap(i, j int)      { c[i], c[j] = c[j], c[i] }
func (c *closing) Push(x any)        { *c = append(*c, x.(*proposal)) }
func (c *closing) Pop() any {
	old := *c
	p := old[len(old)-1]
	*c = old[:len(old)-1]
	return p
}

// tally counts a runbook's or a policy's proposals: open now, opened in the last
// hour; a runbook's also carries its streak and failures.
type tally struct {
	open, hour int
	rb         *runbooks.Runbook
	streak     int
	failures   []time.Time
	// waitWhy is a policy's reason for waiting, by approvals needed, made once.
	waitWhy map[int]string
}

// target is one remediation id: its open proposal and its last merge.
type target struct {
	open      *proposal
	lastMerge time.Time
	merged    bool
}

// opened is one proposal's opening, for the per-hour limits.
type opened struct {
	at              time.Time
	policy, runbook *tally
}

// sim is the simulated state: what Git and the forge would hold at the clock.
type sim struct {
	cat    *runbooks.Catalog
	router *runbooks.Router
	opts   Options

	runbooks, policies map[string]*tally
	targets            map[string]*target
	byClose            closing
	proposals          []proposal // every proposal of the replay, allocated at once
	recent             []opened   // openings of the last hour, oldest first, from recentAt
	recentAt           int
	openAll            int
}

// Run replays the anomalies (in any order; they are played by start time, ties in
// the order given) against the catalog.
func Run(cat *runbooks.Catalog, router *runbooks.Router, anomalies []intake.Anomaly, opts Options) []Result {
	type start struct {
		at    int64
		index int
	}
	order := make([]start, len(anomalies))
	for i := range order {
		order[i] = start{anomalies[i].StartsAt.UnixNano(), i}
	}
	slices.SortFunc(order, func(a, b start) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.index, b.index) // ties in the order given
	})
	s := &sim{
		cat: cat, router: router, opts: opts,
		runbooks: make(map[string]*tally, len(cat.Runbooks)), policies: map[string]*tally{}, targets: map[string]*target{},
		proposals: make([]proposal, 0, len(anomalies)),
	}
	for _, rb := range cat.Runbooks {
		s.runbooks[rb.Metadata.Name] = &tally{rb: rb, streak: opts.Streaks[rb.Metadata.Name]}
	}
	out := make([]Result, len(anomalies))
	for _, o := range order {
		s.play(&out[o.index], &anomalies[o.index])
	}
	return out
}

// advance closes every proposal that closed by t and forgets openings older than
// an hour.
func (s *sim) advance(t time.Time) {
	for s.byClose.Len() > 0 && !s.byClose[0].closes.After(t) {
		p := heap.Pop(&s.byClose).(*proposal)
		p.target.open = nil
		s.openAll--
		p.policy.open--
		p.runbook.open--
	}
	for s.recentAt < len(s.recent) && !s.recent[s.recentAt].at.After(t.Add(-time.Hour)) {
		s.recent[s.recentAt].policy.hour--
		s.recent[s.recentAt].runbook.hour--
		s.recentAt++
	}
	// Reuse the front of the queue once most of it has gone by.
	if s.recentAt > 1024 && s.recentAt > len(s.recent)/2 {
		n := copy(s.recent, s.recent[s.recentAt:])
		s.recent, s.recentAt = s.recent[:n], 0
	}
}

func (s *sim) policy(pol *runbooks.Policy) *tally {
	pt := s.policies[pol.Metadata.Name]
	if pt == nil {
		pt = &tally{waitWhy: map[int]string{}}
		s.policies[pol.Metadata.Name] = pt
	}
	return pt
}

// play decides one anomaly at its start, as the live loop would have.
// It writes the result in place: a replay fills tens of thousands.
func (s *sim) play(res *Result, a *intake.Anomaly) {
	t := a.StartsAt
	s.advance(t)
	res.At, res.Labels = t, a.Labels
	d := decision.Decide(s.router, a.Subject())
	res.Policy = d.Policy
	if d.Acting == nil {
		res.Action, res.Reason = decision.NoMatch, noMatchReason(d)
		return
	}
	act := d.Acting
	res.Runbook, res.ID = act.Runbook, act.ID
	tg := s.targets[act.ID]
	if tg == nil {
		tg = &target{}
		s.targets[act.ID] = tg
	}
	if tg.open != nil {
		res.Action, res.Reason = decision.Updated, "a proposal for this target is open: counted as a recurrence"
		return
	}
	rt := s.runbooks[act.Runbook]
	rb := rt.rb
	pol := s.cat.Policy(d.Policy)
	if pol == nil {
		pol = runbooks.DefaultPolicy()
	}
	pt := s.policy(pol)
	if until, tripped := pol.Spec.CircuitBreaker.Trips(rt.failures, t); tripped {
		res.Action = decision.Suspended
		res.Reason = fmt.Sprintf("circuit breaker of policy %s: runbook %s suspended until %s", pol.Metadata.Name, rb.Metadata.Name, until.UTC().Format(time.RFC3339))
		return
	}
	if cd := rb.Spec.Cooldown.Std(); cd > 0 && tg.merged && t.Before(tg.lastMerge.Add(cd)) {
		res.Action = decision.Suppressed
		res.Reason = fmt.Sprintf("cooldown: this target was last remediated at %s; quiet until %s",
			tg.lastMerge.UTC().Format(time.RFC3339), tg.lastMerge.Add(cd).UTC().Format(time.RFC3339))
		return
	}
	if l := pol.Spec.Limits; l.MaxOpen > 0 || l.PerHour > 0 || s.opts.Bounds.Any() {
		c := decision.Counts{Open: s.openAll, Hour: len(s.recent) - s.recentAt, PolicyOpen: pt.open, PolicyHour: pt.hour, RunbookOpen: rt.open, RunbookHour: rt.hour}
		if why := decision.OverLimit(pol, rb.Metadata.Name, s.opts.Bounds, c); why != "" {
			res.Action, res.Reason = decision.Suppressed, why
			return
		}
	}
	s.propose(res, a, proposal{target: tg, policy: pt, runbook: rt}, pol, act)
}

// propose opens the simulated proposal: it stays open until the anomaly ends (a
// resolved anomaly's proposal is closed), unless it would auto-merge first.
func (s *sim) propose(res *Result, a *intake.Anomaly, p proposal, pol *runbooks.Policy, act *decision.Item) {
	t := a.StartsAt
	end := a.EndsAt
	if end.IsZero() || end.Before(t) {
		end = s.opts.End
	}
	if end.IsZero() || end.Before(t) {
		end = t.Add(24 * time.Hour)
	}
	p.closes = end
	rb := p.runbook.rb
	res.Action, res.Approvals = decision.Proposed, act.RequiredApprovals
	am := pol.Spec.AutoMerge
	switch {
	case act.RequiredApprovals > 0 || !am.Allows(rb.Spec.Risk):
		approvals := max(act.RequiredApprovals, 1)
		res.Approvals = approvals
		if p.policy.waitWhy[approvals] == "" {
			p.policy.waitWhy[approvals] = "would wait for " + strconv.Itoa(approvals) + " approval(s) under policy " + pol.Metadata.Name
		}
		res.Reason = p.policy.waitWhy[approvals]
	case p.runbook.streak < am.MinVerifiedRuns:
		res.Approvals = 1
		res.Reason = fmt.Sprintf("would wait for 1 approval: runbook %s has %d verified run(s) in a row, auto-merge needs %d",
			rb.Metadata.Name, p.runbook.streak, am.MinVerifiedRuns)
	default:
		at, ok := pol.NextMerge(t, end.Sub(t))
		if !ok || !at.Before(end) {
			res.Reason = fmt.Sprintf("would auto-merge, but the anomaly ended before a window let it (%s)", pol.MergeBlocked(t))
			break
		}
		res.Action, res.Approvals, res.MergeAt = decision.AutoMerged, 0, &at
		res.Reason = "would auto-merge at " + at.UTC().Format(time.RFC3339)
		if why := pol.MergeBlocked(t); why != "" {
			res.Reason += " (held until then: " + why + ")"
		}
		p.closes = at
		s.merged(p.runbook, p.target, at, s.outcome(*a))
	}
	s.proposals = append(s.proposals, p)
	open := &s.proposals[len(s.proposals)-1] // no reallocation: room for every anomaly
	p.target.open = open
	heap.Push(&s.byClose, open)
	s.openAll++
	p.policy.open++
	p.runbook.open++
	p.policy.hour++
	p.runbook.hour++
	s.recent = append(s.recent, opened{at: t, policy: p.policy, runbook: p.runbook})
}

func (s *sim) outcome(a intake.Anomaly) forge.Outcome {
	if s.opts.Outcome == nil {
		return forge.OutcomeVerified
	}
	if o := s.opts.Outcome(a); o != "" {
		return o
	}
	return forge.OutcomeVerified
}

// merged records a simulated merge and its outcome: the cooldown starts, and the
// runbook's streak grows or, on a failure, starts over as its breaker counts it.
func (s *sim) merged(rt *tally, tg *target, at time.Time, o forge.Outcome) {
	tg.lastMerge, tg.merged = at, true
	if o == forge.OutcomeFailed {
		rt.streak = 0
		rt.failures = append(rt.failures, at)
		return
	}
	rt.streak++
}

func noMatchReason(d decision.Decision) string {
	for _, it := range d.Items {
		if it.Disposition == decision.SkipDisabled || it.Disposition == decision.SkipCondition {
			return fmt.Sprintf("runbook %s: %s", it.Runbook, it.Reason)
		}
	}
	return "no runbook matches"
}
