package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/server"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/worker"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

func newServeCommand() *cobra.Command {
	var configFile, listen string
	var reconcileEvery time.Duration
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Receive anomalies over HTTP and propose their remediations",
		Long: "Serves POST /v1/alertmanager (Alertmanager webhook, version 4), POST /v1/anomalies (generic JSON),\n" +
			"/metrics, /healthz and /readyz. An accepted anomaly is queued on disk before the reply and is\n" +
			"handled after a restart if the process stopped first.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configFile)
			if err != nil {
				return badInput(err)
			}
			if listen != "" {
				cfg.Listen = listen
			}
			if reconcileEvery < 0 {
				return badInput(fmt.Errorf("--reconcile-interval must not be negative"))
			}
			if err := secretsSet(cfg); err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil)), reconcileEvery)
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "remediator.yaml", "configuration file")
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on, overriding the configuration")
	cmd.Flags().DurationVar(&reconcileEvery, "reconcile-interval", time.Minute,
		"how often to run a reconcile pass (merge what passes its gates, verify merged remediations); 0 disables")
	return cmd
}

// secretsSet fails closed: a secret the configuration names but the environment does
// not hold would leave the intake or the GitHub webhook open to anyone.
func secretsSet(cfg *config.Config) error {
	for _, s := range []struct{ field, env string }{
		{"intake.bearer_token_env", cfg.Intake.BearerTokenEnv},
		{"forge.webhook_secret_env", cfg.Forge.WebhookSecretEnv},
	} {
		if s.env != "" && strings.TrimSpace(os.Getenv(s.env)) == "" {
			return badInput(fmt.Errorf("%s names %s, which is unset or empty: serve refuses to start rather than accept unauthenticated requests", s.field, s.env))
		}
	}
	return nil
}

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, reconcileEvery time.Duration) error {
	q, err := queue.Open(filepath.Join(cfg.StateDir, "queue"), time.Now)
	if err != nil {
		return err
	}
	defer func() { _ = q.Close() }()
	q.SetLimit(cfg.Intake.MaxQueued)
	store, err := catalogstore.Open(ctx, catalogstore.Options{
		Repository: cfg.Catalog.Repository, Branch: cfg.Catalog.Branch, Directory: cfg.Catalog.Directory,
		Token: config.Secret(cfg.Catalog.TokenEnv), Logger: log,
	})
	if err != nil {
		return err
	}
	infra, fg, err := openInfra(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() { _ = infra.Close() }()
	metrics := server.NewMetrics(q.Len)
	src := &catalogSource{store: store, cfg: cfg, infra: infra, forge: fg, log: log, kick: make(chan struct{}, 1), metrics: metrics}
	token := config.Secret(cfg.Intake.BearerTokenEnv)
	if token == "" {
		log.Warn("intake is not authenticated: set intake.bearer_token_env to require a bearer token")
	}
	handler := server.New(server.Options{
		Queue: q, Metrics: metrics, Logger: log, BearerToken: token, MaxBodyBytes: int64(cfg.Intake.MaxBodyBytes),
		Ready: src.ready, Now: time.Now,
		GitHubWebhookSecret: config.Secret(cfg.Forge.WebhookSecretEnv),
		OnGitHubEvent:       func(string) { src.kickPass() },
		Route:               src.route,
	})
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return badInput(fmt.Errorf("listen on %s: %w", cfg.Listen, err))
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	// Load the catalog now, so /readyz tells the truth before the first anomaly; a
	// failure here is retried by the worker with each anomaly.
	if _, err := src.proposer(ctx); err != nil {
		log.Error("catalog not loaded; not ready until it loads", "err", err)
	}
	w := &worker.Worker{Queue: q, Source: src.proposer, Metrics: metrics, Logger: log, Poll: 2 * time.Second}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.Run(ctx) }()
	if reconcileEvery > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); src.reconcileLoop(ctx, reconcileEvery) }()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("remediator serving", "listen", ln.Addr().String(), "queued", q.Len())

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdown, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer done()
	_ = srv.Shutdown(shutdown)
	cancel()
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("remediator stopped", "queued", q.Len())
	return nil
}

// catalogSource reloads the catalog when its branch moves and builds the proposer.
type catalogSource struct {
	store *catalogstore.Store
	cfg   *config.Config
	infra *infrarepo.Repo
	forge propose.Forge
	log   *slog.Logger

	// kick asks the reconcile loop for a pass now (a GitHub webhook arrived).
	kick    chan struct{}
	metrics *server.Metrics
	// infraMu serialises the worker's proposals and the reconcile passes: they share
	// the repository mirror.
	infraMu sync.Mutex

	mu   sync.Mutex
	head string
	p    *propose.Proposer
}

func (c *catalogSource) proposer(ctx context.Context) (worker.Proposer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	snap, err := c.store.Snapshot(ctx)
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
			c.log.Error("catalog at new head is invalid; keeping the previous one", "head", snap.Head, "err", err)
			return c.locked(), nil
		}
		return nil, err
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		return nil, err
	}
	c.p = &propose.Proposer{
		Catalog: cat, Router: router, Infra: c.infra, Forge: c.forge, Base: c.cfg.Infrastructure.Base,
		AuthorName: c.cfg.Infrastructure.AuthorName, AuthorEmail: c.cfg.Infrastructure.AuthorEmail,
		Now: time.Now, Logger: c.log, Limits: proposalLimits(c.cfg),
	}
	if c.head != "" {
		c.log.Info("catalog reloaded", "head", snap.Head, "runbooks", len(cat.Runbooks), "policies", len(cat.Policies))
	}
	c.head = snap.Head
	return c.locked(), nil
}

func (c *catalogSource) ready() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.p == nil {
		return errors.New("catalog not loaded yet")
	}
	return nil
}

// locked hands the worker the proposer behind the mirror's lock. Called with c.mu held.
func (c *catalogSource) locked() worker.Proposer {
	return &lockedProposer{mu: &c.infraMu, p: c.p, resolved: c.kickPass}
}

// count records a pass in the metrics.
func (c *catalogSource) count(outcomes []lifecycle.Outcome, err error) {
	if err != nil {
		c.metrics.Passes.WithLabelValues("error").Inc()
		return // a pass cut short says nothing reliable about what waits
	}
	c.metrics.Passes.WithLabelValues("ok").Inc()
	waiting := 0
	for _, o := range outcomes {
		if o.Action == lifecycle.Waiting {
			waiting++
			continue
		}
		c.metrics.Lifecycle.WithLabelValues(o.Action).Inc()
	}
	c.metrics.Waiting.Set(float64(waiting))
}

// route is the intake's question to the current catalog: does a runbook act on this
// anomaly? Before the catalog loads, everything is queued (the worker routes later).
// A resolved alert asks for a reconcile pass either way: it may be what a merged
// remediation's verification waits for.
func (c *catalogSource) route(a intake.Anomaly) string {
	if a.Status == intake.StatusResolved {
		c.kickPass()
	}
	c.mu.Lock()
	p := c.p
	c.mu.Unlock()
	if p == nil {
		return ""
	}
	if d := decision.Decide(p.Router, runbooks.Anomaly{Labels: a.Labels, Annotations: a.Annotations, Value: a.Value}); d.Acting == nil {
		return server.OutcomeNoMatch
	}
	return ""
}

// kickPass asks the reconcile loop for a pass now, unless one is already due.
func (c *catalogSource) kickPass() {
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
}

func (l *lockedProposer) Propose(ctx context.Context, a intake.Anomaly, dryRun bool) (propose.Result, error) {
	l.mu.Lock()
	res, err := l.p.Propose(ctx, a, dryRun)
	l.mu.Unlock()
	if a.Status == intake.StatusResolved && l.resolved != nil {
		l.resolved()
	}
	return res, err
}

// eventSpacing is the least time between two passes, when events ask for them.
const eventSpacing = 2 * time.Second

// reconcileLoop runs reconcile passes until ctx ends: the periodic fallback that
// merges approved proposals and records outcomes without a cron job.
func (c *catalogSource) reconcileLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
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
		}
		last = time.Now()
		if _, err := c.proposer(ctx); err != nil {
			c.log.Error("reconcile: catalog not loaded", "err", err)
			continue
		}
		c.mu.Lock()
		cat := c.p.Catalog
		c.mu.Unlock()
		r, err := newReconciler(c.cfg, c.infra, c.forge, cat, c.log)
		if err != nil {
			c.log.Error("reconcile: configuration", "err", err)
			continue
		}
		c.infraMu.Lock()
		var outcomes []lifecycle.Outcome
		if prs, ok := c.forge.(lifecycle.PullRequests); ok {
			outcomes, err = r.RunGitHub(ctx, prs, func(err error) bool { return errors.Is(err, github.ErrHeadMoved) })
		} else {
			outcomes, err = r.Run(ctx)
		}
		c.infraMu.Unlock()
		c.count(outcomes, err)
		if err != nil && ctx.Err() == nil {
			c.log.Error("reconcile pass failed", "err", err)
		}
	}
}
