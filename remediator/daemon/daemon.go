// Package daemon holds what `remediator serve` runs besides its HTTP handler: the
// catalog that reloads when its branch moves, the proposer the queue's worker uses
// (behind the lock it shares with the reconcile passes), the reconcile loop, and the
// status snapshots the status page shows. Package main only wires it.
package daemon

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"go.opentelemetry.io/otel/trace"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/notify"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/status"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/worker"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// Options are what the daemon works with.
type Options struct {
	Store *catalogstore.Store
	Infra *infrarepo.Repo
	Forge propose.Forge
	// Base, AuthorName, AuthorEmail: the infrastructure repository's.
	Base, AuthorName, AuthorEmail string
	Limits                        decision.Bounds
	Metrics                       *Metrics
	Logger                        *slog.Logger
	// Reconciler makes the lifecycle engine for a catalog.
	Reconciler func(cat *runbooks.Catalog) (*lifecycle.Reconciler, error)
	// Pass runs one reconcile pass, the kind the forge needs.
	Pass func(ctx context.Context, r *lifecycle.Reconciler) ([]lifecycle.Result, error)
	// QueueDir is the intake queue's directory, for the status.
	QueueDir string
	// StatusEvery is the least time between two status snapshots: a page reloaded by
	// many browsers costs one dry-run pass.
	StatusEvery time.Duration
	// Tracer records the proposals' steps; nil traces nothing.
	Tracer trace.Tracer
	// Notify is told what this replica did (proposals it opened, merges, outcomes
	// it recorded); nil tells nobody.
	Notify *notify.Dispatcher
	// StatusURL is the status page's address people reach, for the links.
	StatusURL string
	// LastPassFile, when set, is where the last pass is kept for `status`.
	LastPassFile string
	// StatusDryRun makes each status snapshot a dry-run pass of its own: for the
	// local forge, whose every read is Git's and costs no rate limit.
	StatusDryRun bool
	// Budget, when set, is the forge's rate limit: timed passes give way when it
	// runs low, events' passes (merges, verifications) do not.
	Budget PassBudget
}

// PassBudget is what the loop asks of the forge's rate limit.
type PassBudget interface {
	// Spare says whether a timed pass of passCost requests may run sinceLast after
	// the last, and why not.
	Spare(passCost int, sinceLast time.Duration) (bool, string)
	// Counted is how many requests the rate limit counted so far.
	Counted() int
}

// Daemon is the state serve keeps.
type Daemon struct {
	o Options
	// kick asks the reconcile loop for a pass now (an event arrived).
	kick chan struct{}
	// infraMu serialises the worker's proposals, the reconcile passes and the status
	// snapshots: they share the repository mirror.
	infraMu sync.Mutex

	mu   sync.Mutex
	head string
	p    *propose.Proposer

	statusMu sync.Mutex
	snap     *status.Snapshot

	// pending are the targets events named since the last pass.
	pendMu  sync.Mutex
	pending pendingPass
	// last is what the passes found, shown by the status page.
	lastMu sync.Mutex
	last   LastPass
}

// New returns the daemon.
func New(o Options) *Daemon {
	return &Daemon{o: o, kick: make(chan struct{}, 1)}
}

// Proposer is the worker's source: the proposer of the current catalog, reloaded
// when the catalog branch moves, behind the mirror's lock.
func (c *Daemon) Proposer(ctx context.Context) (worker.Proposer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	snap, err := c.o.Store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if c.p != nil && snap.Head == c.head {
		return c.locked(), nil
	}
	cat, err := snap.Catalog()
	if err != nil {
		if c.p != nil {
			// Keep serving the last good catalog rather than stop remediating.
			c.o.Logger.Error("catalog at new head is invalid; keeping the previous one", "head", snap.Head, "err", err)
			return c.locked(), nil
		}
		return nil, err
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		return nil, err
	}
	c.p = &propose.Proposer{
		Catalog: cat, Router: router, Infra: c.o.Infra, Forge: c.o.Forge, Base: c.o.Base,
		AuthorName: c.o.AuthorName, AuthorEmail: c.o.AuthorEmail,
		Now: time.Now, Logger: c.o.Logger, Limits: c.o.Limits, Tracer: c.o.Tracer,
	}
	if c.head != "" {
		c.o.Logger.Info("catalog reloaded", "head", snap.Head, "runbooks", len(cat.Runbooks), "policies", len(cat.Policies))
	}
	c.head = snap.Head
	return c.locked(), nil
}

// Ready says whether the catalog has loaded.
func (c *Daemon) Ready() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.p == nil {
		return errors.New("catalog not loaded yet")
	}
	return nil
}

// locked hands the worker the proposer behind the mirror's lock. Called with c.mu held.
func (c *Daemon) locked() worker.Proposer {
	return &lockedProposer{mu: &c.infraMu, p: c.p, resolved: c.KickPass, told: c.proposed}
}

// count records a pass in the metrics. Called with infraMu held.
func (c *Daemon) count(outcomes []lifecycle.Result, err error) {
	if err != nil {
		c.o.Metrics.Passes.WithLabelValues("error").Inc()
		return // a pass cut short says nothing reliable about what waits
	}
	c.o.Metrics.Passes.WithLabelValues("ok").Inc()
	waiting := 0
	var oldest time.Duration
	for _, o := range outcomes {
		if o.Action == decision.Waiting {
			waiting++
			if head, err := c.o.Infra.Commit(plumbing.NewHash(o.Head)); err == nil && time.Since(head.Committer.When) > oldest {
				oldest = time.Since(head.Committer.When)
			}
			continue
		}
		if o.Action == decision.Verifying {
			continue // a step on the way, said every pass: not an event to count
		}
		c.o.Metrics.Lifecycle.WithLabelValues(string(o.Action), decision.RunbookOf(o.ID)).Inc()
	}
	c.o.Metrics.Waiting.Set(float64(waiting))
	c.o.Metrics.OldestWaiting.Set(oldest.Seconds())
}

// Route is the intake's question to the current catalog: does a runbook act on this
// anomaly? Before the catalog loads, everything is queued (the worker routes later).
// A resolved alert asks for a reconcile pass either way: it may be what a merged
// remediation's verification waits for.
func (c *Daemon) Route(a intake.Anomaly) intake.Disposition {
	if a.Status == intake.StatusResolved {
		c.KickPass()
	}
	c.mu.Lock()
	p := c.p
	c.mu.Unlock()
	if p == nil {
		return ""
	}
	if d := decision.Decide(p.Router, a.Subject()); d.Acting == nil {
		return intake.NoMatch
	}
	return ""
}

// KickPass asks the reconcile loop for a pass now, unless one is already due: a
// resolved anomaly may be what a merged remediation's verification waits for, so
// the pass verifies and looks at no proposal.
func (c *Daemon) KickPass() {
	c.pendMu.Lock()
	c.pending.due = true
	c.pendMu.Unlock()
	c.wake()
}

// wake tells the loop a pass is due.
func (c *Daemon) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

type lockedProposer struct {
	mu *sync.Mutex
	p  *propose.Proposer
	// resolved is told of each resolved anomaly: it may be what a merged
	// remediation's verification waits for, so a reconcile pass is due now.
	resolved func()
	// told is told of each result, under the mirror's lock.
	told func(ctx context.Context, p *propose.Proposer, res propose.Result, a intake.Anomaly, dryRun bool)
}

func (l *lockedProposer) Propose(ctx context.Context, a intake.Anomaly, dryRun bool) (propose.Result, error) {
	l.mu.Lock()
	res, err := l.p.Propose(ctx, a, dryRun)
	if err == nil && l.told != nil {
		l.told(ctx, l.p, res, a, dryRun)
	}
	l.mu.Unlock()
	if a.Status == intake.StatusResolved && l.resolved != nil {
		l.resolved()
	}
	return res, err
}

// eventSpacing is the least time between two passes, when events ask for them.
const eventSpacing = 2 * time.Second

// ReconcileLoop runs reconcile passes until ctx ends: the timed full pass, the
// safety net that merges approved proposals and records outcomes without a cron job
// (and without webhooks), and the passes events ask for.
func (c *Daemon) ReconcileLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var last, lastFull time.Time
	passCost := 0
	for {
		var only *lifecycle.Targets
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if c.o.Budget != nil {
				if ok, why := c.o.Budget.Spare(passCost, time.Since(lastFull)); !ok {
					c.o.Logger.Warn("timed reconcile pass skipped to spare the forge's rate limit; events still start passes", "reason", why)
					c.o.Metrics.Spared.Inc()
					continue
				}
			}
			c.takePending() // the full pass covers them
		case <-c.kick:
			// A burst of events (CI reporting dozens of check runs) asks for one pass
			// each; passes start at most every eventSpacing, so the forge's rate
			// limit is spent on the passes that can change something.
			if wait := eventSpacing - time.Since(last); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			only = c.takePending()
		}
		last = time.Now()
		before := c.counted()
		c.pass(ctx, only)
		if only == nil {
			passCost, lastFull = c.counted()-before, last
		}
	}
}

// counted is the forge requests counted so far, 0 without a budget.
func (c *Daemon) counted() int {
	if c.o.Budget == nil {
		return 0
	}
	return c.o.Budget.Counted()
}

// pass runs one reconcile pass, narrowed to only when set, and keeps what it found.
func (c *Daemon) pass(ctx context.Context, only *lifecycle.Targets) {
	if _, err := c.Proposer(ctx); err != nil {
		c.o.Logger.Error("reconcile: catalog not loaded", "err", err)
		return
	}
	c.mu.Lock()
	cat := c.p.Catalog
	c.mu.Unlock()
	r, err := c.o.Reconciler(cat)
	if err != nil {
		c.o.Logger.Error("reconcile: configuration", "err", err)
		return
	}
	r.Only = only
	c.infraMu.Lock()
	outcomes, err := c.o.Pass(ctx, r)
	c.count(outcomes, err) // reads the mirror: under its lock
	c.passed(ctx, cat, outcomes, r.DryRun)
	c.infraMu.Unlock()
	c.keep(outcomes, err, only == nil)
	c.forgetStatus()
	if err != nil && ctx.Err() == nil {
		c.o.Logger.Error("reconcile pass failed", "err", err)
	}
}
