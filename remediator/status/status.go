// Package status is the operators' view, one model for the `status` command, the
// status page and its JSON endpoint: what is in flight and why it waits, where each
// merged remediation's verification stands, recent outcomes, each runbook's record
// and breaker, and the intake queue. It reads only: the last reconcile pass's
// outcomes (never the forge), Git and the queue's files.
package status

import (
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/audit"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Snapshot is the whole view at one time.
type Snapshot struct {
	GeneratedAt time.Time `json:"generated_at"`
	// PassAt is when the reconcile pass the proposals come from ended.
	PassAt time.Time `json:"pass_at,omitzero"`
	Base   string    `json:"base"`
	// Proposals are the open ones: waiting (and why), or what the next pass would do.
	Proposals []Item `json:"proposals"`
	// Verifying are merged remediations without an outcome yet.
	Verifying []Item `json:"verifying"`
	// Outcomes are the recent ones, newest first.
	Outcomes []Item    `json:"outcomes"`
	Runbooks []Runbook `json:"runbooks"`
	Queue    Queue     `json:"queue"`
	// Problems are what the view could not read; the rest is still shown.
	Problems []string `json:"problems,omitempty"`
}

// Item is one remediation.
type Item struct {
	ID      string `json:"id"`
	Runbook string `json:"runbook,omitempty"`
	Branch  string `json:"branch"`
	URL     string `json:"url,omitempty"`
	Head    string `json:"head,omitempty"`
	Merge   string `json:"merge,omitempty"`
	// State: waiting, would-merge, would-close, verifying, verified, failed, not-applied.
	State     string            `json:"state"`
	Reason    string            `json:"reason,omitempty"`
	Approvers []string          `json:"approvers,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	At        time.Time         `json:"at,omitzero"`
	// Need is what an open proposal needs to merge (records.NeedOf, as reconcile says).
	Need *records.Need `json:"need,omitempty"`
	// TimeTo is an outcome's time to remediate, from the anomaly's start.
	TimeTo *audit.TimeTo `json:"time_to,omitempty"`
}

// Runbook is one runbook's standing.
type Runbook struct {
	Name    string         `json:"name"`
	Enabled bool           `json:"enabled"`
	Risk    string         `json:"risk"`
	Version string         `json:"version"`
	Record  records.Record `json:"record"`
	// Suspended says why a policy's circuit breaker holds the runbook, per policy.
	Suspended []string `json:"suspended,omitempty"`
	// Recent are its latest outcomes, newest first.
	Recent []Item `json:"recent,omitempty"`
	// Chart draws its outcomes and time to remediate of the last 30 days.
	Chart *Chart `json:"chart,omitempty"`
}

// Queue is the intake's backlog.
type Queue struct {
	Queued int          `json:"queued"`
	Dead   []queue.Dead `json:"dead"`
}

// Inputs are what a snapshot is made of.
type Inputs struct {
	// Pass is a reconcile pass's outcomes (the last one, or a dry run's), PassAt
	// when it ended (zero: none has yet).
	Pass     []lifecycle.Result
	PassErr  error
	PassAt   time.Time
	Infra    *infrarepo.Repo
	Base     string
	Catalog  *runbooks.Catalog
	QueueDir string
	Now      time.Time
}

// recentOutcomes bounds the outcomes listed; horizon how far back they are read.
// Tampered is the state of an outcome note the remediator did not seal.
const Tampered = "tampered"

const (
	recentOutcomes = 50
	horizon        = 30 * 24 * time.Hour
	perRunbook     = 5
)

// Build makes the snapshot.
func Build(in Inputs) *Snapshot {
	s := &Snapshot{GeneratedAt: in.Now.UTC(), PassAt: in.PassAt.UTC(), Base: in.Base, Proposals: []Item{}, Verifying: []Item{}, Outcomes: []Item{}, Runbooks: []Runbook{}}
	if in.PassAt.IsZero() {
		s.Problems = append(s.Problems, "no reconcile pass has finished yet: proposals show after the first")
	}
	if in.PassErr != nil {
		s.Problems = append(s.Problems, "the pass did not finish: "+in.PassErr.Error())
	}
	for _, o := range in.Pass {
		if !inFlight[o.Action] && !strings.HasPrefix(o.Reason, "would be recorded now: ") {
			continue // closed, or an outcome now recorded: the outcomes list shows it
		}
		it := Item{ID: o.ID, Branch: o.Branch, URL: o.URL, Head: o.Head, Merge: o.Merge, State: string(o.Action), Reason: o.Reason, Approvers: o.Approvers, Need: o.Need}
		it.Runbook, it.Labels, it.At = describe(in.Infra, o)
		switch o.Action {
		case decision.Waiting, decision.WouldMerge, decision.WouldClose:
			s.Proposals = append(s.Proposals, it)
		default:
			it.Reason = strings.TrimPrefix(it.Reason, "would be recorded now: ")
			s.Verifying = append(s.Verifying, it)
		}
	}
	outcomes, err := history(in.Infra, in.Base, in.Now)
	if err != nil {
		s.Problems = append(s.Problems, "outcomes: "+err.Error())
	}
	if len(outcomes) > recentOutcomes {
		s.Outcomes = outcomes[:recentOutcomes]
	} else if outcomes != nil {
		s.Outcomes = outcomes
	}
	s.Runbooks, err = runbookStanding(in, outcomes)
	if err != nil {
		s.Problems = append(s.Problems, "runbooks: "+err.Error())
	}
	if in.QueueDir != "" {
		items, err := queue.List(in.QueueDir)
		if err != nil {
			s.Problems = append(s.Problems, "queue: "+err.Error())
		}
		s.Queue.Queued = len(items)
		dead, err := queue.ListDead(in.QueueDir)
		if err != nil {
			s.Problems = append(s.Problems, "dead letters: "+err.Error())
		}
		s.Queue.Dead = dead
	}
	if s.Queue.Dead == nil {
		s.Queue.Dead = []queue.Dead{}
	}
	return s
}

// inFlight are the actions of a pass that leave a remediation open or verifying.
var inFlight = map[decision.Action]bool{
	decision.Waiting: true, decision.WouldMerge: true, decision.WouldClose: true, decision.Verifying: true, decision.Merged: true,
}

// describe reads a proposal's or merge's artifact: its runbook, anomaly labels and
// when it was proposed.
func describe(infra *infrarepo.Repo, o lifecycle.Result) (string, map[string]string, time.Time) {
	at := o.Head
	if o.Merge != "" {
		at = o.Merge
	}
	if at == "" || infra == nil {
		return "", nil, time.Time{}
	}
	data, err := infra.ReadFile(plumbing.NewHash(at), artifact.Path(o.ID))
	if err != nil {
		return "", nil, time.Time{}
	}
	art, err := artifact.Decode(data)
	if err != nil {
		return "", nil, time.Time{}
	}
	proposed, _ := time.Parse(time.RFC3339, art.ProposedAt)
	return art.Runbook, art.Anomaly.Labels, proposed
}

// history lists the outcomes recorded within the horizon, newest first.
func history(infra *infrarepo.Repo, base string, now time.Time) ([]Item, error) {
	if infra == nil {
		return nil, nil
	}
	var out []Item
	// The walk stops only at the remediator's own merge dated before the horizon: a
	// back-dated commit on top hides nothing (dates are claims).
	err := records.WalkSince(infra, base, now.Add(-horizon), infra.Signer.Public(), func(c *object.Commit) error {
		tr := infrarepo.Trailers(c.Message)
		id := tr["Remediation-Id"]
		if c.NumParents() < 2 || id == "" {
			return nil
		}
		note, found, err := infra.Note(records.OutcomeRef, c.Hash)
		if err != nil || !found {
			return err
		}
		it := Item{ID: id, Runbook: tr["Runbook"], Branch: decision.Branch(id), Merge: c.Hash.String(), At: c.Committer.When.UTC()}
		ev := records.ReadOutcome(note, c.Hash, infra.Signer.Public())
		if ev.Tampered != "" {
			it.State, it.Reason = Tampered, ev.Tampered+": it proves nothing"
			out = append(out, it)
			return nil
		}
		it.State = string(ev.Outcome)
		for _, line := range strings.Split(string(ev.Body), "\n") {
			if v, ok := strings.CutPrefix(line, "detail: "); ok {
				it.Reason = v
			}
			if v, ok := strings.CutPrefix(line, "checked_at: "); ok {
				if t, err := time.Parse(time.RFC3339, v); err == nil {
					it.At = t
				}
			}
		}
		it.TimeTo = outcomeTimeTo(infra, c, id, ev.Outcome, it.At)
		out = append(out, it)
		return nil
	})
	return out, err
}

// outcomeTimeTo is a merged remediation's time to remediate, from its artifact at
// the merge; nil when the artifact cannot be read.
func outcomeTimeTo(infra *infrarepo.Repo, merge *object.Commit, id string, outcome forge.Outcome, checked time.Time) *audit.TimeTo {
	data, err := infra.ReadFile(merge.Hash, artifact.Path(id))
	if err != nil {
		return nil
	}
	art, err := artifact.Decode(data)
	if err != nil {
		return nil
	}
	var verified time.Time
	if outcome == forge.OutcomeVerified {
		verified = checked
	}
	return audit.NewTimeTo(art, merge.Committer.When, verified)
}

// runbookStanding is each runbook's record at its current version, its breakers,
// and its latest outcomes.
func runbookStanding(in Inputs, outcomes []Item) ([]Runbook, error) {
	out := []Runbook{}
	if in.Catalog == nil {
		return out, nil
	}
	var errs []error
	var recs records.Records
	var h records.History
	if in.Infra != nil {
		h = records.History{Repo: in.Infra, Base: in.Base, Remediator: in.Infra.Signer.Public(), Now: in.Now}
		var err error
		if recs, err = h.AllRecords(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, rb := range in.Catalog.Runbooks {
		version, err := runbooks.Version(rb)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r := Runbook{Name: rb.Metadata.Name, Enabled: rb.Spec.Enabled, Risk: string(rb.Spec.Risk), Version: version}
		r.Record = recs.Of(rb.Metadata.Name, version)
		if in.Infra != nil {
			for _, pol := range in.Catalog.Policies {
				why, err := h.Suspended(rb, pol)
				if err != nil {
					errs = append(errs, err)
				}
				if why != "" {
					r.Suspended = append(r.Suspended, why)
				}
			}
		}
		r.Chart = chartOf(outcomes, rb.Metadata.Name, in.Now)
		for _, o := range outcomes {
			if o.Runbook == rb.Metadata.Name && len(r.Recent) < perRunbook {
				r.Recent = append(r.Recent, o)
			}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}
