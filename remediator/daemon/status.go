package daemon

import (
	"context"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/status"
)

// Status is a snapshot no older than StatusEvery, of what the last reconcile pass
// found, with Git and the queue: showing it never asks the forge. With StatusDryRun
// (a forge that is Git itself, with no rate limit) it is a dry-run pass's.
func (c *Daemon) Status(ctx context.Context) (*status.Snapshot, error) {
	c.statusMu.Lock()
	defer c.statusMu.Unlock()
	if c.snap != nil && time.Since(c.snap.GeneratedAt) < c.o.StatusEvery {
		return c.snap, nil
	}
	if _, err := c.Proposer(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	cat := c.p.Catalog
	c.mu.Unlock()
	last := c.lastPass()
	if c.o.StatusDryRun {
		r, err := c.o.Reconciler(cat)
		if err != nil {
			return nil, err
		}
		r.DryRun = true
		c.infraMu.Lock()
		outcomes, passErr := c.o.Pass(ctx, r)
		c.infraMu.Unlock()
		last = LastPass{}
		last.apply(outcomes, passErr, true, time.Now())
	}
	c.infraMu.Lock()
	snap := status.Build(status.Inputs{
		Pass: last.Outcomes(), PassErr: last.Err(), PassAt: last.At, Infra: c.o.Infra, Base: c.o.Base, Catalog: cat,
		QueueDir: c.o.QueueDir, Now: time.Now(),
	})
	c.infraMu.Unlock()
	c.snap = snap
	return snap, nil
}

// Timeline tells one remediation from Git.
func (c *Daemon) Timeline(_ context.Context, id string) (*status.Remediation, error) {
	c.infraMu.Lock()
	defer c.infraMu.Unlock()
	return status.Timeline(c.o.Infra, c.o.Base, id, time.Now())
}

// forgetStatus drops the snapshot after a pass changed what it shows.
func (c *Daemon) forgetStatus() {
	c.statusMu.Lock()
	c.snap = nil
	c.statusMu.Unlock()
}
