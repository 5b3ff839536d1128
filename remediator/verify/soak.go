package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
)

// maxSoakSteps bounds the points of a soak's range query (Prometheus refuses more
// than 11,000 a series).
const maxSoakSteps = 1000

// Soaked asks whether the remediation held over a past period, not only now: the
// PromQL condition returned a result at every step of a range query over it, and,
// where Prometheus is configured and the runbook waits for the alert, the alert's
// ALERTS series never fired in it (a flap between two passes counts). Alertmanager
// only knows the present, so Check covers it at each pass.
func (v *Verifier) Soaked(ctx context.Context, a *artifact.Artifact, from, to time.Time) (Result, error) {
	// Whole seconds, so that the steps Prometheus answers for are the ones gaps
	// looks for; from rounds up (the pass saw the condition hold at from itself).
	if f := from.Truncate(time.Second); !f.Equal(from) {
		from = f.Add(time.Second)
	}
	to = to.Truncate(time.Second)
	if !to.After(from) {
		return Result{Holds: true}, nil
	}
	step := SoakStep(to.Sub(from))
	var details []string
	holds := true
	if q := strings.TrimSpace(a.Verify.PromQL); q != "" {
		missed, err := v.gaps(ctx, q, from, to, step)
		if err != nil {
			return Result{}, err
		}
		if len(missed) > 0 {
			holds = false
			details = append(details, fmt.Sprintf("the verification query returned nothing at %d step(s) of the period, first at %s: %s",
				len(missed), missed[0].UTC().Format(time.RFC3339), q))
		} else {
			details = append(details, "the verification query held throughout: "+q)
		}
	}
	if a.Verify.AlertResolved && v.Prometheus != "" && a.Anomaly.Labels["alertname"] != "" {
		fired, err := v.fired(ctx, a.Anomaly.Labels, from, to, step)
		if err != nil {
			return Result{}, err
		}
		if !fired.IsZero() {
			holds = false
			details = append(details, fmt.Sprintf("the alert fired again at %s (ALERTS in Prometheus)", fired.UTC().Format(time.RFC3339)))
		}
	}
	return Result{Holds: holds, Detail: strings.Join(details, "; ")}, nil
}

// SoakStep is the resolution of a soak's range queries: a second, or coarser for a
// long period so that a query stays within maxSoakSteps points. Finer than any
// scrape interval, so the condition is looked at after every sample.
func SoakStep(period time.Duration) time.Duration {
	step := time.Second
	if s := (period / maxSoakSteps).Round(time.Second); s > step {
		step = s
	}
	return step
}

func (v *Verifier) rangeQuery(ctx context.Context, q string, from, to time.Time, step time.Duration) (model.Matrix, error) {
	api, err := v.prometheus()
	if err != nil {
		return nil, err
	}
	val, _, _, err := api.QueryRange(ctx, q, promv1.Range{Start: from, End: to, Step: step}, promv1.WithTimeout(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("verify: range query Prometheus: %w", err)
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("verify: the range query returns a %s, want a matrix", val.Type())
	}
	return m, nil
}

// gaps lists the steps of [from, to] at which the query returned no sample: the
// condition's breaks (a comparison drops the series that fail it).
func (v *Verifier) gaps(ctx context.Context, q string, from, to time.Time, step time.Duration) ([]time.Time, error) {
	m, err := v.rangeQuery(ctx, q, from, to, step)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, s := range m {
		for _, p := range s.Values {
			seen[int64(p.Timestamp)] = true
		}
	}
	var missed []time.Time
	for t := from; !t.After(to); t = t.Add(step) {
		if !seen[int64(model.TimeFromUnixNano(t.UnixNano()))] {
			missed = append(missed, t)
		}
	}
	return missed, nil
}

// fired returns about when in (from, to] the anomaly's alert was firing in
// Prometheus, or zero. Each step looks back over the whole step (max_over_time), so
// the windows tile the period and a flap shorter than a step is seen too. A series
// counts when each of its labels equals the anomaly's: the anomaly may carry more
// (external labels Alertmanager saw), never other values.
func (v *Verifier) fired(ctx context.Context, labels map[string]string, from, to time.Time, step time.Duration) (time.Time, error) {
	if to.Before(from.Add(step)) {
		return time.Time{}, nil
	}
	q := fmt.Sprintf(`max_over_time(ALERTS{alertstate="firing",alertname=%q}[%s])`, labels["alertname"], model.Duration(step))
	m, err := v.rangeQuery(ctx, q, from.Add(step), to, step)
	if err != nil {
		return time.Time{}, err
	}
	var first time.Time
	for _, s := range m {
		if !subset(s.Metric, labels) || len(s.Values) == 0 {
			continue
		}
		t := s.Values[0].Timestamp.Time()
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first, nil
}

func subset(m model.Metric, labels map[string]string) bool {
	for k, val := range m {
		switch k {
		case model.MetricNameLabel, "alertstate":
			continue
		}
		if labels[string(k)] != string(val) {
			return false
		}
	}
	return true
}
