package daemon

import (
	"time"

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

// proposed tells of a proposal this replica opened (its branch creation won).
func (c *Daemon) proposed(p *propose.Proposer, res propose.Result, a intake.Anomaly, dryRun bool) {
	if dryRun {
		return
	}
	if e, ok := c.facts(p.Catalog).Proposal(res, a); ok {
		c.o.Notify.Emit(e)
	}
}

// passed tells what this replica's pass did: merges it made, outcomes it recorded.
func (c *Daemon) passed(cat *runbooks.Catalog, outcomes []lifecycle.Outcome, dryRun bool) {
	for _, e := range c.facts(cat).Pass(outcomes, dryRun) {
		c.o.Notify.Emit(e)
	}
}
