package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
)

// ClaimStore is where the replicas claim events: one file every replica reads,
// moved only by compare-and-swap.
type ClaimStore interface {
	// Read is the file as last fetched; nil when there is none (or it is not ours).
	Read() ([]byte, error)
	// Update rewrites it with what update makes of it, by compare-and-swap, calling
	// update again on what another writer wrote first.
	Update(ctx context.Context, update func(old []byte) ([]byte, error)) error
}

// GitClaims keeps the claims in the infrastructure repository, at ClaimsRef, in
// commits the remediator signs: no service of our own, the compare-and-swap of a ref
// the replicas already share (as the reservations ledger of remediator/bounds).
// Called under the caller's lock on the mirror.
type GitClaims struct {
	Infra *infrarepo.Repo
	By    object.Signature
}

// Read implements ClaimStore.
func (g GitClaims) Read() ([]byte, error) {
	data, _, err := g.Infra.SignedFile(ClaimsRef, ClaimsFile)
	return data, err
}

// Update implements ClaimStore.
func (g GitClaims) Update(ctx context.Context, update func(old []byte) ([]byte, error)) error {
	return g.Infra.UpdateSignedFile(ctx, ClaimsRef, ClaimsFile, "claim notifications\n", g.By, update)
}

// Candidate is an event a catch-up may tell: derived from Git or the forge, cheap to
// name, built (artifacts and history read) only when it is this replica's to tell
// and not told yet. At is when it happened, for the window.
type Candidate struct {
	ID    string
	Kind  Kind
	At    time.Time
	Build func() []Event
}

// Tell queues what happened, each event by exactly one replica. live are the events
// of what this process just did; caught up are candidates derived from Git and forge
// state, to tell an event whose replica died between the action and queueing it.
//
// Every event is first claimed (Claims, by compare-and-swap); only the replica whose
// claim won queues it. A replica that dies between its claim and its queue finds its
// claim at its next catch-up and queues it then: its outbox queues a key once, so an
// event it told already is not told again. Nothing is claimed without receivers.
func (d *Dispatcher) Tell(ctx context.Context, store ClaimStore, live []Event, caughtUp []Candidate) {
	if d == nil {
		return
	}
	if len(d.boxes) == 0 || store == nil {
		for _, e := range live {
			d.Emit(e)
		}
		return
	}
	derived, history, begins := d.untold(store, live, caughtUp)
	if len(live) == 0 && len(derived) == 0 && !begins {
		return
	}
	mine, err := d.claim(ctx, store, live, derived, history)
	if err != nil {
		// Nothing is queued unclaimed: the next catch-up (any replica's) tells it.
		d.o.Logger.Error("claim notifications; the next pass catches them up", "events", len(live)+len(derived), "err", err)
		return
	}
	for _, e := range live {
		if mine[e.ID] {
			d.Emit(e)
		}
	}
	for _, e := range derived {
		if mine[e.ID] {
			d.retell(e)
		}
	}
}

// untold builds the candidates that may be this replica's to tell: inside the
// window, not claimed by another replica, and not known to its outboxes yet. A live
// event's id is told live. While the claims have not begun (begins), nothing is:
// history names the candidates, for the claims to begin with them declined.
func (d *Dispatcher) untold(store ClaimStore, live []Event, cands []Candidate) (out []Event, history []string, begins bool) {
	data, err := store.Read()
	if err != nil {
		d.o.Logger.Error("read notification claims", "err", err)
		return nil, nil, false
	}
	claims, ok := ParseClaims(data)
	seen := map[string]bool{}
	for _, e := range live {
		seen[e.ID] = true
	}
	if !ok {
		for _, c := range cands {
			if !seen[c.ID] {
				history = append(history, c.ID)
			}
		}
		return nil, history, true
	}
	now := d.o.Now()
	for _, c := range cands {
		cl, claimed := claims.ByID[c.ID]
		if seen[c.ID] || !claims.Tellable(c.At, now) || (claimed && cl.Owner != d.owner) || d.known(c.Kind, c.ID) {
			continue
		}
		seen[c.ID] = true
		out = append(out, c.Build()...)
	}
	return out, nil, false
}

// claim claims the events and says which are this replica's. When it begins the
// claims, the events of history (untold) are recorded as declined.
func (d *Dispatcher) claim(ctx context.Context, store ClaimStore, live, derived []Event, history []string) (map[string]bool, error) {
	now := d.o.Now()
	ids := make([]string, 0, len(live)+len(derived))
	for _, e := range append(append([]Event(nil), live...), derived...) {
		ids = append(ids, e.ID)
	}
	var mine map[string]bool
	err := store.Update(ctx, func(old []byte) ([]byte, error) {
		c, ok := ParseClaims(old)
		if !ok {
			c = begin(now, history)
		}
		var changed bool
		mine, changed = c.claim(d.owner, ids, now)
		if ok && !changed {
			return old, nil
		}
		return c.Encode(), nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim %d notification(s): %w", len(ids), err)
	}
	return mine, nil
}

// retell queues an event a catch-up found this replica's and untold: the event its
// action's replica lost. Its time to remediate is observed here, once, as it was not
// before.
func (d *Dispatcher) retell(e Event) {
	if !d.queue(e) {
		return
	}
	d.o.Metrics.observe(&e)
	d.o.Metrics.caughtUp(e.Kind)
	d.log(e).Info("notification caught up: its event was not queued when it happened", "at", e.At)
}

// Receives says whether any receiver is configured: without one there is nothing to
// catch up (the events only feed the metrics) and nothing is claimed.
func (d *Dispatcher) Receives() bool {
	return d != nil && len(d.boxes) > 0
}

// TellPass tells what a reconcile pass did (Facts.Pass: merges, outcomes) and
// catches up the events of recent remediations nobody told (Facts.CatchUp). It says
// whether anything was given to Tell. A dry run is never told.
func (d *Dispatcher) TellPass(ctx context.Context, f Facts, store ClaimStore, outcomes []lifecycle.Result) bool {
	if d == nil {
		return false
	}
	var lost []Candidate
	if d.Receives() {
		var err error
		if lost, err = f.CatchUp(outcomes); err != nil {
			d.o.Logger.Error("catch up notifications", "err", err)
		}
	}
	live := f.Pass(outcomes, false)
	d.Tell(ctx, store, live, lost)
	return len(live) > 0 || len(lost) > 0
}
