package notify

import (
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Facts turn what the pipeline did into events: the repository (read under the
// caller's lock on the mirror), the catalog and the status page's address.
type Facts struct {
	Infra   *infrarepo.Repo
	Base    string
	Catalog *runbooks.Catalog
	// StatusURL is where people reach the status page (notify.status_url): the link
	// of a remediation without a pull request.
	StatusURL string
	Now       func() time.Time
}

func (f Facts) link(id, forgeURL string) string {
	// The local forge's "URL" is the branch's name: only a web address is a link.
	if strings.HasPrefix(forgeURL, "https://") || strings.HasPrefix(forgeURL, "http://") {
		return forgeURL
	}
	if f.StatusURL == "" || id == "" {
		return ""
	}
	return strings.TrimSuffix(f.StatusURL, "/") + "/remediations/" + id
}

// Proposal is the event of a proposal this process opened (propose.Opened: its
// branch creation won the compare-and-swap, so no other replica tells it too).
func (f Facts) Proposal(res propose.Result, a intake.Anomaly) (Event, bool) {
	if res.Action != decision.Opened || res.Commit == "" {
		return Event{}, false
	}
	e := Event{
		Kind: ProposalWaiting, ID: key(ProposalWaiting, res.ID, res.Commit), At: f.Now().UTC(),
		RemediationID: res.ID, Runbook: res.Runbook, Policy: res.Policy, Risk: res.Risk, URL: f.link(res.ID, res.URL),
		Times: Times{AnomalyStart: a.StartsAt, Proposed: f.Now().UTC()},
	}
	if art := f.artifact(res.Commit, res.ID); art != nil {
		e.Target = art.Target
		e.Times.Proposed = parseTime(art.ProposedAt, e.Times.Proposed)
	}
	if pol := f.Catalog.Policy(res.Policy); pol != nil {
		need := f.need(pol, res)
		e.Approval = &Approval{Required: need.Approvals, Reviewers: need.Reviewers, AutoMerge: need.AutoMerge}
	}
	return e, true
}

// need is what the proposal needs before it merges, by the gate's own rule
// (records.NeedOf): a risk the policy asks no approval for still waits for a
// person unless the runbook version has earned auto-merge. A record that cannot be
// read leaves it waiting for a person, as the gate would.
func (f Facts) need(pol *runbooks.Policy, res propose.Result) records.Need {
	rb := f.Catalog.Runbook(res.Runbook)
	n, _ := records.NeedOf(pol, runbooks.Risk(res.Risk), func() (records.Record, error) {
		if rb == nil || f.Infra == nil || f.Infra.Signer == nil {
			return records.Record{}, errors.New("the runbook's record is not read")
		}
		version, err := runbooks.Version(rb)
		if err != nil {
			return records.Record{}, err
		}
		h := records.History{Repo: f.Infra, Base: f.Base, Remediator: f.Infra.Signer.Public(), Now: f.Now()}
		return h.RecordOf(rb.Metadata.Name, version)
	})
	return n
}

// Pass turns what a reconcile pass did into events: merges, and outcomes recorded
// (verified; failed, with its rollback, and the breaker it may have tripped). A dry
// run did nothing and tells nothing.
func (f Facts) Pass(outcomes []lifecycle.Result, dryRun bool) []Event {
	if dryRun {
		return nil
	}
	var out []Event
	for _, o := range outcomes {
		switch o.Action {
		case decision.Merged:
			out = append(out, f.merged(o))
		case decision.Action(forge.OutcomeVerified):
			out = append(out, f.outcome(o, Verified))
		case decision.Action(forge.OutcomeFailed):
			e := f.outcome(o, Failed)
			out = append(out, e)
			if s, ok := f.suspended(e); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func (f Facts) merged(o lifecycle.Result) Event {
	e := f.base(o, Merged)
	e.Approvers = o.Approvers
	return e
}

func (f Facts) outcome(o lifecycle.Result, k Kind) Event {
	e := f.base(o, k)
	e.Detail = o.Reason
	if k == Verified {
		e.Times.Verified = e.At
	}
	if k == Failed && strings.Contains(o.Reason, "rollback proposed") {
		e.Rollback = decision.Branch(o.ID + artifact.RollbackSuffix)
	}
	return e
}

// base is the event of a merged remediation, from its merge commit and artifact.
func (f Facts) base(o lifecycle.Result, k Kind) Event {
	e := Event{Kind: k, ID: key(k, o.ID, o.Merge), At: f.Now().UTC(), RemediationID: o.ID, Merge: o.Merge, URL: f.link(o.ID, o.URL)}
	if c, err := f.Infra.Commit(plumbing.NewHash(o.Merge)); err == nil {
		e.Times.Merged = c.Committer.When.UTC()
	}
	if art := f.artifact(o.Merge, o.ID); art != nil {
		e.Runbook, e.Policy, e.Risk, e.Target = art.Runbook, art.Policy, art.Risk, art.Target
		e.Times.AnomalyStart = parseTime(art.Anomaly.StartsAt, time.Time{})
		e.Times.Proposed = parseTime(art.ProposedAt, time.Time{})
	}
	return e
}

// suspended is the event of the breaker a failure tripped: judged as the merge gate
// judges it, from the history this remediator's key vouches for.
func (f Facts) suspended(failed Event) (Event, bool) {
	rb, pol := f.Catalog.Runbook(failed.Runbook), f.Catalog.Policy(failed.Policy)
	if rb == nil || pol == nil || artifact.IsRollback(failed.RemediationID) || f.Infra.Signer == nil {
		return Event{}, false
	}
	h := records.History{Repo: f.Infra, Base: f.Base, Remediator: f.Infra.Signer.Public(), Now: f.Now()}
	why, err := h.Suspended(rb, pol)
	if err != nil || why == "" {
		return Event{}, false
	}
	return Event{Kind: Suspended, ID: key(Suspended, rb.Metadata.Name, why), At: f.Now().UTC(), Runbook: rb.Metadata.Name,
		Policy: pol.Metadata.Name, RemediationID: failed.RemediationID, Detail: why, URL: failed.URL}, true
}

// DeadLetter is the event of an anomaly given up on.
func DeadLetter(it queue.Item, reason string, now time.Time) Event {
	line, _, _ := strings.Cut(reason, "\n")
	return Event{Kind: DeadLettered, ID: key(DeadLettered, it.ID), At: now.UTC(), Target: labels(it.Anomaly.Labels),
		Detail: "after " + plural(it.Attempts+1, "attempt") + ": " + line + " (`remediator queue retry " + it.ID + "` queues it again)",
		Times:  Times{AnomalyStart: it.Anomaly.StartsAt}}
}

func (f Facts) artifact(commit, id string) *artifact.Artifact {
	if f.Infra == nil || commit == "" {
		return nil
	}
	data, err := f.Infra.ReadFile(plumbing.NewHash(commit), artifact.Path(id))
	if err != nil {
		return nil
	}
	art, err := artifact.Decode(data)
	if err != nil {
		return nil
	}
	return art
}

func parseTime(s string, fallback time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC()
	}
	return fallback
}

func labels(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+l[k])
	}
	return clip(strings.Join(parts, ", "), 500)
}
