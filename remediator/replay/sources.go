package replay

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
)

// OutcomeAnnotation on a replayed anomaly says how its remediation would have
// ended (verified or failed), so that a replay can exercise circuit breakers.
const OutcomeAnnotation = "remediation.gitops.dev/outcome"

// OutcomeOf reads OutcomeAnnotation.
func OutcomeOf(a intake.Anomaly) forge.Outcome {
	return forge.Outcome(a.Annotations[OutcomeAnnotation])
}

// maxLine bounds one line of a JSON lines file.
const maxLine = 1 << 20

// FromJSONLines reads anomalies in the generic format, one per line (blank lines
// and lines starting with # are skipped); each must say when it started.
func FromJSONLines(name string, r io.Reader) ([]intake.Anomaly, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var out []intake.Anomaly
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		a, err := intake.ParseGeneric(line, time.Time{})
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, n, err)
		}
		if a.StartsAt.IsZero() {
			return nil, fmt.Errorf("%s line %d: starts_at: required to replay an anomaly", name, n)
		}
		if o := OutcomeOf(a); o != "" && o != forge.OutcomeVerified && o != forge.OutcomeFailed {
			return nil, fmt.Errorf("%s line %d: annotations.%s: %q is neither verified nor failed", name, n, OutcomeAnnotation, o)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// FromWebhooks reads Alertmanager webhook payloads (as Alertmanager posted them,
// one per file) and joins each alert's firing and resolved notifications into one
// anomaly, from when it started to when it resolved.
func FromWebhooks(files map[string][]byte) ([]intake.Anomaly, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	type key struct {
		fingerprint string
		start       time.Time
	}
	seen := map[key]int{}
	var out []intake.Anomaly
	for _, name := range names {
		alerts, err := intake.ParseAlertmanager(files[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, a := range alerts {
			k := key{a.Fingerprint, a.StartsAt}
			i, ok := seen[k]
			if !ok {
				seen[k] = len(out)
				if a.Status != intake.StatusResolved {
					a.EndsAt = time.Time{}
				}
				out = append(out, a)
				continue
			}
			if a.Status == intake.StatusResolved && (out[i].EndsAt.IsZero() || a.EndsAt.Before(out[i].EndsAt)) {
				out[i].EndsAt = a.EndsAt
			}
		}
	}
	return out, nil
}

// Prometheus names the alerts history to replay: ALERTS{alertstate="firing"} over
// [From, To] at Step.
type Prometheus struct {
	URL      string
	From, To time.Time
	Step     time.Duration
	Client   *http.Client
}

// maxPoints bounds the samples a range query asks of one series.
const maxPoints = 11000

// Fetch reads the firing alerts of the period: each run of samples of an ALERTS
// series (no gap over a step) is one anomaly, from its first sample to a step after
// its last (or still firing when it reaches To). ALERTS carries the alert's labels
// only: no annotations and no value, so conditions on them see none.
func (p Prometheus) Fetch(ctx context.Context) ([]intake.Anomaly, error) {
	step := p.Step
	if step <= 0 {
		step = time.Minute
	}
	if n := p.To.Sub(p.From) / step; n > maxPoints {
		step = p.To.Sub(p.From) / maxPoints
		step = step.Round(time.Second) + time.Second
	}
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	c, err := promapi.NewClient(promapi.Config{Address: p.URL, Client: client})
	if err != nil {
		return nil, err
	}
	val, _, _, err := promv1.NewAPI(c).QueryRange(ctx, `ALERTS{alertstate="firing"}`, promv1.Range{Start: p.From, End: p.To, Step: step})
	if err != nil {
		return nil, fmt.Errorf("replay: query Prometheus: %w", err)
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("replay: Prometheus answered a %s, want a matrix", val.Type())
	}
	var out []intake.Anomaly
	for _, series := range m {
		labels := map[string]string{}
		for k, v := range series.Metric {
			if k != model.MetricNameLabel && k != "alertstate" {
				labels[string(k)] = string(v)
			}
		}
		var run *intake.Anomaly
		var last time.Time
		flush := func() {
			if run == nil {
				return
			}
			if last.Add(step).Before(p.To) {
				run.EndsAt = last.Add(step)
			}
			out = append(out, *run)
			run = nil
		}
		for _, s := range series.Values {
			at := s.Timestamp.Time().UTC()
			if run != nil && at.Sub(last) > step {
				flush()
			}
			if run == nil {
				run = &intake.Anomaly{Labels: labels, Status: intake.StatusFiring, StartsAt: at, Source: "prometheus", Fingerprint: intake.Fingerprint(labels)}
			}
			last = at
		}
		flush()
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartsAt.Before(out[j].StartsAt) })
	return out, nil
}
