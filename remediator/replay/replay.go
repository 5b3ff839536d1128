// Package replay answers "what would this catalog have done?": it plays historical
// anomalies against a catalog on a simulated clock, with the live loop's own rules
// (routing, dedupe, cooldown, policy and remediator limits, circuit breakers, change
// and freeze windows, approvals and earned auto-merge), and reports per anomaly what
// would have happened. Nothing is pushed or proposed.
package replay

import (
	"container/heap"
	"fmt"
	"sort"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Action is what would have become of one anomaly.
type Action string

// Actions, from the live loop's vocabulary.
const (
	// Proposed: a proposal would have opened and waited for its approvals.
	Proposed Action = "proposed"
	// AutoMerged: a proposal would have opened and merged without a human.
	AutoMerged Action = "auto-merged"
	// Updated: a proposal for the same target was open: counted as a recurrence.
	Updated Action = "updated"
	// Suppressed: cooldown or a limit held it back.
	Suppressed Action = "suppressed"
	// Suspended: the policy's circuit breaker had stopped the runbook.
	Suspended Action = "suspended"
	// NoMatch: no enabled runbook acts on it.
	NoMatch Action = "no-match"
)

// Actions in the order reports list them.
var Actions = []Action{Proposed, AutoMerged, Updated, Suppressed, Suspended, NoMatch}

// Outcome is how a replayed remediation that merges is taken to end; an anomaly
// may say (Options.Outcome), verified otherwise.
type Outcome string

// Outcomes a replayed merge may have.
const (
	Verified Outcome = "verified"
	Failed   Outcome = "failed"
)

// Result is what would have become of one anomaly.
type Result struct {
	At      time.Time         `json:"at"`
	Labels  map[string]string `json:"labels"`
	Runbook string            `json:"runbook,omitempty"`
	Policy  string            `json:"policy,omitempty"`
	ID      string            `json:"id,omitempty"`
	Action  Action            `json:"action"`
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
	// Outcome says how an anomaly's merged remediation would end; nil: verified.
	Outcome func(a intake.Anomaly) Outcome
	// End is when the replayed period ends: anomalies still firing then close then.
	End time.Time
}

// proposal is a simulated open proposal.
type proposal struct {
	id, policy, runbook string
	closes              time.Time
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

// opened is one proposal's opening, for the per-hour limits.
type opened struct {
	at              time.Time
	policy, runbook string
}

// sim is the simulated state: what Git and the forge would hold at the clock.
type sim struct {
	cat    *runbooks.Catalog
	router *runbooks.Router
	opts   Options

	open      map[string]*proposal
	byClose   closing
	recent    []opened // openings of the last hour, oldest first
	lastMerge map[string]time.Time
	failures  map[string][]time.Time
	streak    map[string]int
	// counts of open proposals: in all, per policy, per runbook.
	openAll     int
	openPolicy  map[string]int
	openRunbook map[string]int
}

// Run replays the anomalies (in any order; they are played by start time, ties in
// the order given) against the catalog.
func Run(cat *runbooks.Catalog, router *runbooks.Router, anomalies []intake.Anomaly, opts Options) []Result {
	order := make([]int, len(anomalies))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return anomalies[order[i]].StartsAt.Before(anomalies[order[j]].StartsAt) })
	s := &sim{
		cat: cat, router: router, opts: opts,
		open: map[string]*proposal{}, lastMerge: map[string]time.Time{}, failures: map[string][]time.Time{},
		streak: map[string]int{}, openPolicy: map[string]int{}, openRunbook: map[string]int{},
	}
	for k, v := range opts.Streaks {
		s.streak[k] = v
	}
	out := make([]Result, len(anomalies))
	for _, i := range order {
		out[i] = s.play(anomalies[i])
	}
	return out
}

// advance closes every proposal that closed by t.
func (s *sim) advance(t time.Time) {
	for s.byClose.Len() > 0 && !s.byClose[0].closes.After(t) {
		p := heap.Pop(&s.byClose).(*proposal)
		delete(s.open, p.id)
		s.openAll--
		s.openPolicy[p.policy]--
		s.openRunbook[p.runbook]--
	}
	cut := 0
	for cut < len(s.recent) && !s.recent[cut].at.After(t.Add(-time.Hour)) {
		cut++
	}
	s.recent = s.recent[cut:]
}

// play decides one anomaly at its start, as the live loop would have.
func (s *sim) play(a intake.Anomaly) Result {
	t := a.StartsAt
	s.advance(t)
	res := Result{At: t, Labels: a.Labels}
	d := decision.Decide(s.router, runbooks.Anomaly{Labels: a.Labels, Annotations: a.Annotations, Value: a.Value})
	res.Policy = d.Policy
	if d.Acting == nil {
		res.Action, res.Reason = NoMatch, noMatchReason(d)
		return res
	}
	act := d.Acting
	res.Runbook, res.ID = act.Runbook, act.ID
	if _, ok := s.open[act.ID]; ok {
		res.Action, res.Reason = Updated, "a proposal for this target is open: counted as a recurrence"
		return res
	}
	rb := s.cat.Runbook(act.Runbook)
	pol := s.cat.Policy(d.Policy)
	if pol == nil {
		pol = runbooks.DefaultPolicy()
	}
	if until, tripped := pol.Spec.CircuitBreaker.Trips(s.failures[rb.Metadata.Name], t); tripped {
		res.Action = Suspended
		res.Reason = fmt.Sprintf("circuit breaker of policy %s: runbook %s suspended until %s", pol.Metadata.Name, rb.Metadata.Name, until.UTC().Format(time.RFC3339))
		return res
	}
	if cd := rb.Spec.Cooldown.Std(); cd > 0 {
		if last, ok := s.lastMerge[act.ID]; ok && t.Before(last.Add(cd)) {
			res.Action = Suppressed
			res.Reason = fmt.Sprintf("cooldown: this target was last remediated at %s; quiet until %s",
				last.UTC().Format(time.RFC3339), last.Add(cd).UTC().Format(time.RFC3339))
			return res
		}
	}
	if l := pol.Spec.Limits; l.MaxOpen > 0 || l.PerHour > 0 || s.opts.Bounds.Any() {
		if why := decision.OverLimit(pol, rb.Metadata.Name, s.opts.Bounds, s.counts(pol.Metadata.Name, rb.Metadata.Name)); why != "" {
			res.Action, res.Reason = Suppressed, why
			return res
		}
	}
	return s.propose(res, a, rb, pol, act)
}

// counts are the limits' counts at the clock.
func (s *sim) counts(policy, runbook string) decision.Counts {
	c := decision.Counts{Open: s.openAll, PolicyOpen: s.openPolicy[policy], RunbookOpen: s.openRunbook[runbook], Hour: len(s.recent)}
	for _, o := range s.recent {
		if o.policy == policy {
			c.PolicyHour++
		}
		if o.runbook == runbook {
			c.RunbookHour++
		}
	}
	return c
}

// propose opens the simulated proposal: it stays open until the anomaly ends (a
// resolved anomaly's proposal is closed), unless it would auto-merge first.
func (s *sim) propose(res Result, a intake.Anomaly, rb *runbooks.Runbook, pol *runbooks.Policy, act *decision.Item) Result {
	t := a.StartsAt
	end := a.EndsAt
	if end.IsZero() || end.Before(t) {
		end = s.opts.End
	}
	if end.IsZero() || end.Before(t) {
		end = t.Add(24 * time.Hour)
	}
	p := &proposal{id: act.ID, policy: pol.Metadata.Name, runbook: rb.Metadata.Name, closes: end}
	res.Action, res.Approvals = Proposed, act.RequiredApprovals
	am := pol.Spec.AutoMerge
	switch {
	case act.RequiredApprovals > 0 || !am.Allows(rb.Spec.Risk):
		approvals := max(act.RequiredApprovals, 1)
		res.Approvals = approvals
		res.Reason = fmt.Sprintf("would wait for %d approval(s) under policy %s", approvals, pol.Metadata.Name)
	case s.streak[rb.Metadata.Name] < am.MinVerifiedRuns:
		res.Approvals = 1
		res.Reason = fmt.Sprintf("would wait for 1 approval: runbook %s has %d verified run(s) in a row, auto-merge needs %d",
			rb.Metadata.Name, s.streak[rb.Metadata.Name], am.MinVerifiedRuns)
	default:
		at, ok := pol.NextMerge(t, end.Sub(t))
		if !ok || !at.Before(end) {
			res.Reason = fmt.Sprintf("would auto-merge, but the anomaly ended before a window let it (%s)", pol.MergeBlocked(t))
			break
		}
		res.Action, res.Approvals, res.MergeAt = AutoMerged, 0, &at
		res.Reason = "would auto-merge at " + at.UTC().Format(time.RFC3339)
		if why := pol.MergeBlocked(t); why != "" {
			res.Reason += " (held until then: " + why + ")"
		}
		p.closes = at
		s.merged(rb.Metadata.Name, act.ID, at, s.outcome(a))
	}
	s.open[p.id] = p
	heap.Push(&s.byClose, p)
	s.openAll++
	s.openPolicy[p.policy]++
	s.openRunbook[p.runbook]++
	s.recent = append(s.recent, opened{at: t, policy: p.policy, runbook: p.runbook})
	return res
}

func (s *sim) outcome(a intake.Anomaly) Outcome {
	if s.opts.Outcome == nil {
		return Verified
	}
	if o := s.opts.Outcome(a); o != "" {
		return o
	}
	return Verified
}

// merged records a simulated merge and its outcome: the cooldown starts, and the
// runbook's streak grows or, on a failure, starts over as its breaker counts it.
func (s *sim) merged(runbook, id string, at time.Time, o Outcome) {
	s.lastMerge[id] = at
	if o == Failed {
		s.streak[runbook] = 0
		s.failures[runbook] = append(s.failures[runbook], at)
		return
	}
	s.streak[runbook]++
}

func noMatchReason(d decision.Decision) string {
	for _, it := range d.Items {
		if it.Outcome == decision.SkipDisabled || it.Outcome == decision.SkipCondition {
			return fmt.Sprintf("runbook %s: %s", it.Runbook, it.Reason)
		}
	}
	return "no runbook matches"
}
