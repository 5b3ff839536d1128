package daemon

import (
	"strconv"
	"strings"
	"time"

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

// proposed tells of a proposal this replica opened (its branch creation won).
func (c *Daemon) proposed(p *propose.Proposer, res propose.Result, a intake.Anomaly, dryRun bool) {
	if dryRun {
		return
	}
	if res.Action == decision.Opened && !c.o.StatusDryRun {
		// The status shows what passes found: a pass over the new pull request puts
		// it there now, not at the next timed pass (minutes apart with webhooks).
		c.KickTarget(forge.Target{Number: pullNumber(res.URL)})
	}
	if e, ok := c.facts(p.Catalog).Proposal(res, a); ok {
		c.o.Notify.Emit(e)
	}
}

// passed tells what this replica's pass did: merges it made, outcomes it recorded.
func (c *Daemon) passed(cat *runbooks.Catalog, outcomes []lifecycle.Result, dryRun bool) {
	for _, e := range c.facts(cat).Pass(outcomes, dryRun) {
		c.o.Notify.Emit(e)
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
