// Package server is the remediator's HTTP face: intake endpoints that refuse what they
// cannot read and queue durably what they accept, plus /metrics, /healthz, /readyz.
package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/tracing"
)

// Queue is where accepted anomalies go; Put must be durable when it returns.
type Queue interface {
	Put([]intake.Anomaly) ([]string, error)
}

// Options configure the handler.
type Options struct {
	Queue   Queue
	Metrics *Metrics
	// Gatherer is what GET /metrics serves: the registry every stage registered on.
	Gatherer     prometheus.Gatherer
	Logger       *slog.Logger
	BearerToken  string // empty: no authentication
	MaxBodyBytes int64
	Ready        func() error
	Now          func() time.Time
	// Route says what the current catalog does with an anomaly: "" when a runbook
	// acts on it (it is queued), or the disposition of one answered without
	// queueing (intake.NoMatch). Nil queues everything (the catalog is not loaded
	// yet: the worker routes later).
	Route func(intake.Anomaly) intake.Disposition
	// GitHubWebhookSecret enables POST /v1/github; OnGitHubEvent is told of each
	// verified event that can change a decision, and of what it concerns.
	GitHubWebhookSecret string
	OnGitHubEvent       func(event string, target forge.Target)
	// GiteaWebhookSecret enables POST /v1/gitea (Gitea and Forgejo); OnGiteaEvent is
	// told of each verified delivery that can change a decision, and what it names.
	GiteaWebhookSecret string
	OnGiteaEvent       func(event string, target forge.Target)
	// GitLabWebhookSecret enables POST /v1/gitlab, whose deliveries carry it in
	// X-Gitlab-Token; OnGitLabEvent is told of each verified delivery that can change
	// a decision, and what it names.
	GitLabWebhookSecret string
	OnGitLabEvent       func(event string, target forge.Target)
	// Status, when set, adds the status page's routes (GET / and what it links to).
	Status interface{ Register(mux *http.ServeMux) }
	// Tracer starts each actionable anomaly's trace; nil traces nothing.
	Tracer trace.Tracer
}

// New returns the HTTP handler.
func New(o Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/alertmanager", o.intake("alertmanager", intake.ParseAlertmanagerSkipping))
	mux.Handle("POST /v1/anomalies", o.intake("anomalies", func(b []byte) ([]intake.Anomaly, []intake.Skipped, error) {
		a, err := intake.ParseGeneric(b, o.Now())
		return []intake.Anomaly{a}, nil, err
	}))
	mux.Handle("POST /v1/github", o.github())
	mux.Handle("POST /v1/gitea", o.gitea())
	mux.Handle("POST /v1/gitlab", o.gitlab())
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := o.Ready(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	if o.Status != nil {
		o.Status.Register(mux)
	}
	return mux
}

func (o Options) intake(endpoint string, parse func([]byte) ([]intake.Anomaly, []intake.Skipped, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := o.serveIntake(w, r, parse)
		o.Metrics.Requests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
	})
}

func (o Options) serveIntake(w http.ResponseWriter, r *http.Request, parse func([]byte) ([]intake.Anomaly, []intake.Skipped, error)) int {
	if o.BearerToken != "" {
		const prefix = "Bearer "
		got := r.Header.Get("Authorization")
		if len(got) <= len(prefix) || subtle.ConstantTimeCompare([]byte(got[len(prefix):]), []byte(o.BearerToken)) != 1 || got[:len(prefix)] != prefix {
			w.Header().Set("WWW-Authenticate", `Bearer realm="remediator"`)
			return refuse(w, http.StatusUnauthorized, "missing or wrong bearer token")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, o.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", o.MaxBodyBytes))
		}
		return refuse(w, http.StatusBadRequest, "could not read the body: "+err.Error())
	}
	anomalies, skipped, err := parse(body)
	if err != nil {
		return refuse(w, http.StatusBadRequest, err.Error())
	}
	// An alert with an unusable value is left out and said so; the others go on, so
	// the sender has no reason to resend the group.
	ignored := make([]string, 0, len(skipped))
	for _, sk := range skipped {
		ignored = append(ignored, sk.Err.Error())
		o.Logger.Warn("alert ignored", "alert", sk.Index, "reason", sk.Err.Error())
	}
	actionable, answered := o.route(anomalies)
	o.startTraces(r.Context(), actionable)
	if len(skipped) > 0 {
		answered[intake.BadValue] = len(skipped)
	}
	ids, err := o.Queue.Put(actionable)
	if errors.Is(err, queue.ErrFull) {
		// Alertmanager retries a 429 after a while; nothing is lost, memory stays bounded.
		w.Header().Set("Retry-After", "30")
		o.Logger.Warn("queue full: intake refused", "err", err)
		return refuse(w, http.StatusTooManyRequests, "the queue is full; retry later")
	}
	if err != nil {
		o.Logger.Error("queue anomalies", "err", err)
		// Not acknowledged: the sender retries (Alertmanager does on 5xx).
		return refuse(w, http.StatusServiceUnavailable, "could not queue the anomalies durably")
	}
	for _, a := range actionable {
		o.Metrics.Accepted.WithLabelValues(a.Source).Inc()
	}
	o.Metrics.Routed.WithLabelValues(string(intake.Queued)).Add(float64(len(actionable)))
	for outcome, n := range answered {
		o.Metrics.Routed.WithLabelValues(string(outcome)).Add(float64(n))
	}
	if len(ids) > 0 {
		o.Logger.Info("anomalies accepted", "count", len(anomalies), "queued", len(ids))
	}
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"accepted": len(anomalies) + len(skipped), "queued": ids, "answered": answered, "ignored": ignored})
	return http.StatusAccepted
}

// route splits the anomalies into those a runbook acts on and counts of the others
// by outcome. Only the first are written to disk: an alert no enabled runbook acts on
// costs no write and no worker pass.
func (o Options) route(anomalies []intake.Anomaly) ([]intake.Anomaly, map[intake.Disposition]int) {
	answered := map[intake.Disposition]int{}
	if o.Route == nil {
		return anomalies, answered
	}
	actionable := anomalies[:0:0]
	for _, a := range anomalies {
		if outcome := o.Route(a); outcome != "" {
			answered[outcome]++
			continue
		}
		actionable = append(actionable, a)
	}
	return actionable, answered
}

// startTraces opens the trace of each anomaly queued: its root span, and the
// intake's, recorded in the anomaly (traceparent) for the worker to continue.
func (o Options) startTraces(ctx context.Context, anomalies []intake.Anomaly) {
	if o.Tracer == nil {
		return
	}
	for i := range anomalies {
		a := &anomalies[i]
		root, span := o.Tracer.Start(ctx, "anomaly", trace.WithNewRoot(), trace.WithLinks(trace.LinkFromContext(ctx)),
			trace.WithAttributes(attribute.String("alert.name", a.Labels["alertname"]), attribute.String("alert.fingerprint", a.Fingerprint),
				attribute.String("alert.source", a.Source)))
		if !span.SpanContext().IsValid() {
			span.End()
			return // a no-op tracer: nothing to record
		}
		child, intakeSpan := o.Tracer.Start(root, "intake")
		a.TraceParent = tracing.Inject(child)
		intakeSpan.End()
		span.End()
	}
}

func refuse(w http.ResponseWriter, code int, msg string) int {
	writeJSON(w, code, map[string]string{"error": msg})
	return code
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
