package daemon

import (
	"slices"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
)

// pendingPass is what events asked of the next pass.
type pendingPass struct {
	due     bool
	full    bool
	targets lifecycle.Targets
}

// maxTargets bounds the targets kept between two passes: beyond, a full pass is due.
const maxTargets = 256

// KickTarget asks for a pass over what a webhook delivery concerns; a delivery that
// names nothing asks for a full pass.
func (c *Daemon) KickTarget(t forge.Target) {
	c.pendMu.Lock()
	p := &c.pending
	p.due = true
	switch {
	case t.Number == 0 && t.Commit == "":
		p.full = true
	case len(p.targets.PullRequests)+len(p.targets.Commits) >= maxTargets:
		p.full = true
	default:
		if t.Number != 0 && !slices.Contains(p.targets.PullRequests, t.Number) {
			p.targets.PullRequests = append(p.targets.PullRequests, t.Number)
		}
		if t.Commit != "" && !slices.Contains(p.targets.Commits, t.Commit) {
			p.targets.Commits = append(p.targets.Commits, t.Commit)
		}
	}
	c.pendMu.Unlock()
	c.wake()
}

// takePending empties what events asked: nil for a full pass.
func (c *Daemon) takePending() *lifecycle.Targets {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	p := c.pending
	c.pending = pendingPass{}
	if p.full || !p.due {
		return nil
	}
	return &p.targets
}

// keep records a pass's outcomes for the status page and, when configured, in the
// state directory for `status`.
func (c *Daemon) keep(outcomes []lifecycle.Result, err error, full bool) {
	c.lastMu.Lock()
	defer c.lastMu.Unlock()
	c.last.apply(outcomes, err, full, time.Now())
	if c.o.LastPassFile == "" {
		return
	}
	if err := c.last.save(c.o.LastPassFile); err != nil {
		c.o.Logger.Error("keep the last pass for status", "err", err)
	}
}

// lastPass is a copy of what the passes found.
func (c *Daemon) lastPass() LastPass {
	c.lastMu.Lock()
	defer c.lastMu.Unlock()
	l := c.last
	l.Proposals = make(map[string]lifecycle.Result, len(c.last.Proposals))
	for k, v := range c.last.Proposals {
		l.Proposals[k] = v
	}
	l.Verifying = slices.Clone(c.last.Verifying)
	return l
}
