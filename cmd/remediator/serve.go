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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/trace"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/daemon"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/notify"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/server"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/status"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
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
		Args:        cobra.NoArgs,
		Annotations: map[string]string{logFormatDefault: logJSON},
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
			if !cmd.Flags().Changed("reconcile-interval") && cfg.Forge.WebhookSecretEnv != "" {
				// Deliveries start the passes that matter; the timed one is the
				// safety net for lost deliveries.
				reconcileEvery = webhookReconcileEvery
			}
			if err := secretsSet(cfg); err != nil {
				return err
			}
			if _, err := cfg.NotifyTargets(); err != nil {
				return badInput(err)
			}
			return serve(cmd.Context(), cfg, newLogger(cmd, logJSON), reconcileEvery)
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "remediator.yaml", "configuration file")
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on, overriding the configuration")
	cmd.Flags().DurationVar(&reconcileEvery, "reconcile-interval", time.Minute,
		"how often to run a full reconcile pass (merge what passes its gates, verify merged remediations); 0 disables; "+
			"10m by default when forge.webhook_secret_env is set (deliveries start passes over what they name)")
	return cmd
}

// webhookReconcileEvery is the timed full pass's default interval when GitHub's
// webhook deliveries start the passes over what they name.
const webhookReconcileEvery = 10 * time.Minute

// secretsSet fails closed: a secret the configuration names but the environment does
// not hold would leave the intake or the GitHub webhook open to anyone.
func secretsSet(cfg *config.Config) error {
	for _, s := range []struct{ field, env string }{
		{"intake.bearer_token_env", cfg.Intake.BearerTokenEnv},
		{"forge.webhook_secret_env", cfg.Forge.WebhookSecretEnv},
		{"status.bearer_token_env", cfg.Status.BearerTokenEnv},
	} {
		if s.env != "" && strings.TrimSpace(os.Getenv(s.env)) == "" {
			return badInput(fmt.Errorf("%s names %s, which is unset or empty: serve refuses to start rather than accept unauthenticated requests", s.field, s.env))
		}
	}
	return nil
}

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, reconcileEvery time.Duration) error {
	svc, closeAll, err := openServices(ctx, cfg, log)
	defer closeAll()
	if err != nil {
		return err
	}
	src := svc.daemon()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return badInput(fmt.Errorf("listen on %s: %w", cfg.Listen, err))
	}
	srv := &http.Server{Handler: svc.handler(src), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	// Load the catalog now, so /readyz tells the truth before the first anomaly; a
	// failure here is retried by the worker with each anomaly.
	if _, err := src.Proposer(ctx); err != nil {
		log.Error("catalog not loaded; not ready until it loads", "err", err)
	}
	w := &worker.Worker{Queue: svc.q, Source: src.Proposer, Metrics: worker.NewMetrics(svc.reg, svc.q.Len), Logger: log,
		Poll: 2 * time.Second, Tracer: svc.tracer, DeadLettered: deadLettered(svc.notifier)}
	return svc.run(ctx, srv, ln, func(ctx context.Context, wg *sync.WaitGroup) {
		wg.Add(2)
		go func() { defer wg.Done(); w.Run(ctx) }()
		go func() { defer wg.Done(); svc.notifier.Run(ctx) }()
		if reconcileEvery > 0 {
			wg.Add(1)
			go func() { defer wg.Done(); src.ReconcileLoop(ctx, reconcileEvery) }()
		}
	})
}

// services are what serve's stages share: the queue, the catalog, the
// infrastructure repository and its forge, one metrics registry, the notifier and
// the tracer.
type services struct {
	cfg      *config.Config
	log      *slog.Logger
	q        *queue.Queue
	store    *catalogstore.Store
	reg      *prometheus.Registry
	budget   *github.Budget
	infra    *infrarepo.Repo
	fg       forge.Forge
	notifier *notify.Dispatcher
	tracer   trace.Tracer
}

// openServices opens what serve's stages share; closeAll closes what was opened,
// also after an error.
func openServices(ctx context.Context, cfg *config.Config, log *slog.Logger) (*services, func(), error) {
	svc := &services{cfg: cfg, log: log}
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	var err error
	if svc.q, err = queue.Open(filepath.Join(cfg.StateDir, "queue"), time.Now); err != nil {
		return nil, closeAll, err
	}
	closers = append(closers, func() { _ = svc.q.Close() })
	svc.q.SetLimit(cfg.Intake.MaxQueued)
	svc.store, err = catalogstore.Open(ctx, catalogstore.Options{
		Repository: cfg.Catalog.Repository, Branch: cfg.Catalog.Branch, Directory: cfg.Catalog.Directory,
		Token: config.Secret(cfg.Catalog.TokenEnv), Logger: log,
	})
	if err != nil {
		return nil, closeAll, err
	}
	// One registry (no global state); each stage declares and registers its own.
	svc.reg = server.NewRegistry(version, commit)
	svc.budget = github.NewBudget(svc.reg, time.Now)
	if svc.infra, svc.fg, err = openInfra(ctx, cfg, log, func(o *github.Options) { o.Budget = svc.budget }); err != nil {
		return nil, closeAll, err
	}
	closers = append(closers, func() { _ = svc.infra.Close() })
	if svc.notifier, err = newNotifier(cfg, log, svc.reg); err != nil {
		return nil, closeAll, err
	}
	catchUpDeadLetters(svc.notifier, filepath.Join(cfg.StateDir, "queue"), log)
	svc.tracer = tracing.Tracer(tracing.Provider(ctx))
	return svc, closeAll, nil
}

// daemon is the catalog, the proposer and the reconcile loop over the services.
func (svc *services) daemon() *daemon.Daemon {
	cfg, infra, fg, log := svc.cfg, svc.infra, svc.fg, svc.log
	var passBudget daemon.PassBudget
	if cfg.Forge.Type == config.ForgeGitHub {
		passBudget = svc.budget
	}
	return daemon.New(daemon.Options{
		Store: svc.store, Infra: infra, Forge: fg, Base: cfg.Infrastructure.Base,
		AuthorName: cfg.Infrastructure.AuthorName, AuthorEmail: cfg.Infrastructure.AuthorEmail,
		Limits: proposalLimits(cfg), Metrics: daemon.NewMetrics(svc.reg), Logger: log,
		Reconciler: func(cat *runbooks.Catalog) (*lifecycle.Reconciler, error) {
			r, err := newReconciler(cfg, infra, fg, cat, log)
			if r != nil {
				r.ReportSteps = true // the status shows what the last pass found
			}
			return r, err
		},
		Pass: func(ctx context.Context, r *lifecycle.Reconciler) ([]lifecycle.Result, error) {
			return runPass(ctx, r, fg)
		},
		QueueDir: filepath.Join(cfg.StateDir, "queue"), StatusEvery: 5 * time.Second, Tracer: svc.tracer,
		Notify: svc.notifier, StatusURL: cfg.Notify.StatusURL,
		LastPassFile: daemon.LastPassFile(cfg.StateDir), Budget: passBudget, StatusDryRun: cfg.Forge.Type == config.ForgeLocal,
	})
}

// handler is the HTTP face: intake, webhooks, status page, metrics, health.
func (svc *services) handler(src *daemon.Daemon) http.Handler {
	cfg, log := svc.cfg, svc.log
	page := &status.Page{Snapshot: src.Status, Timeline: src.Timeline, BearerToken: config.Secret(cfg.Status.BearerTokenEnv),
		Refresh: 10 * time.Second, Logger: log}
	token := config.Secret(cfg.Intake.BearerTokenEnv)
	if token == "" {
		log.Warn("intake is not authenticated: set intake.bearer_token_env to require a bearer token")
	}
	return server.New(server.Options{
		Queue: svc.q, Metrics: server.NewMetrics(svc.reg), Gatherer: svc.reg, Logger: log, BearerToken: token,
		MaxBodyBytes: int64(cfg.Intake.MaxBodyBytes), Ready: src.Ready, Now: time.Now, Status: page, Tracer: svc.tracer,
		GitHubWebhookSecret: secretUnless(cfg, config.ForgeGitea, config.ForgeGitLab),
		OnGitHubEvent:       func(_ string, t forge.Target) { src.KickTarget(t) },
		GiteaWebhookSecret:  secretUnless(cfg, config.ForgeGitHub, config.ForgeLocal, config.ForgeGitLab),
		OnGiteaEvent:        func(_ string, t forge.Target) { src.KickTarget(t) },
		GitLabWebhookSecret: secretUnless(cfg, config.ForgeGitHub, config.ForgeLocal, config.ForgeGitea),
		OnGitLabEvent:       func(_ string, t forge.Target) { src.KickTarget(t) },
		Route:               src.Route,
	})
}

// secretUnless is forge.webhook_secret_env's secret, except on the forges named: a
// forge's secret opens no other forge's route.
func secretUnless(cfg *config.Config, forgeTypes ...string) string {
	if slices.Contains(forgeTypes, cfg.Forge.Type) {
		return ""
	}
	return config.Secret(cfg.Forge.WebhookSecretEnv)
}

// run serves until ctx ends or the server fails, with the loops start starts
// beside it; then it shuts the server down and waits for the loops.
func (svc *services) run(ctx context.Context, srv *http.Server, ln net.Listener, start func(context.Context, *sync.WaitGroup)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	start(ctx, &wg)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	svc.log.Info("remediator serving", "listen", ln.Addr().String(), "queued", svc.q.Len())
	var err error
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
	svc.log.Info("remediator stopped", "queued", svc.q.Len())
	return nil
}
