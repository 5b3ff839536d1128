package daemon

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/notify"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// facts are what events are made from. Called with infraMu held: they read the
// mirror.
func (c *Daemon) facts(cat *runbooks.Catalog) notify.Facts {
	return notify.Facts{Infra: c.o.Infra, Base: c.o.Base, Catalog: cat, StatusURL: c.o.StatusURL, Now: time.Now}
}

// claims are where the replicas claim events, so each is told by one of them.
// Called with infraMu held: a claim moves the mirror's ref.
func (c *Daemon) claims() notify.GitClaims {
	return notify.GitClaims{Infra: c.o.Infra, By: object.Signature{Name: c.o.AuthorName, Email: c.o.AuthorEmail, When: time.Now()}}
}

// proposed tells of a proposal this replica opened (its branch creation won).
func (c *Daemon) proposed(ctx context.Context, p *propose.Proposer, res propose.Result, a intake.Anomaly, dryRun bool) {
	if dryRun {
		return
	}
	if res.Action == decision.Opened && !c.o.StatusDryRun {
		// The status shows what passes found: a pass over the new pull request puts
		// it there now, not at the next timed pass (minutes apart with webhooks).
		c.KickTarget(forge.Target{Number: pullNumber(res.URL)})
	}
	if e, ok := c.facts(p.Catalog).Proposal(res, a); ok {
		c.o.Notify.Tell(ctx, c.claims(), []notify.Event{e}, nil)
	}
}

// passed tells what this replica's pass did (merges it made, outcomes it
// recorded), and catches up the events of recent remediations that a replica
// (this one before a restart, or another) did but died before it queued.
func (c *Daemon) passed(ctx context.Context, cat *runbooks.Catalog, outcomes []lifecycle.Result, dryRun bool) {
	if !dryRun {
		c.o.Notify.TellPass(ctx, c.facts(cat), c.claims(), outcomes)
	}
}

// pullNumber is the number at the end of a pull request's address, 0 (a full pass)
// when the address names none.
func pullNumber(url string) int {
	_, after, ok := strings.Cut(url, "/pull/")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(after)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
