// Package verify judges a merged remediation: has the triggering alert stopped firing
// (Alertmanager API v2) and does the runbook's PromQL expression hold (Prometheus HTTP
// API)? The lifecycle records the answer as the outcome note.
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
)

// Verifier asks Alertmanager and Prometheus.
type Verifier struct {
	Alertmanager string // base URL, e.g. http://127.0.0.1:9093
	Prometheus   string // base URL, e.g. http://127.0.0.1:9090
	Client       *http.Client
	// RestartGrace: see Resolved.
	RestartGrace time.Duration
}

// Result is one check of a remediation.
type Result struct {
	// Holds is true when every check the runbook asks for passes.
	Holds  bool
	Detail string
}

// Check asks whether the remediation worked, now.
func (v *Verifier) Check(ctx context.Context, a *artifact.Artifact) (Result, error) {
	var details []string
	holds := true
	if a.Verify.AlertResolved {
		active, err := v.activeAlerts(ctx, a.Anomaly.Labels)
		if err != nil {
			return Result{}, err
		}
		if active > 0 {
			holds = false
			details = append(details, fmt.Sprintf("%d matching alert(s) still active in Alertmanager", active))
		} else {
			details = append(details, "the triggering alert is no longer active")
		}
	}
	if q := strings.TrimSpace(a.Verify.PromQL); q != "" {
		ok, err := v.query(ctx, q)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			holds = false
			details = append(details, "the verification query returns nothing: "+q)
		} else {
			details = append(details, "the verification query holds: "+q)
		}
	}
	return Result{Holds: holds, Detail: strings.Join(details, "; ")}, nil
}

// activeAlerts counts the alerts carrying every label of the anomaly that still fire.
// Silenced and inhibited alerts count: a silence hides an alert from people, it does
// not fix it, so it must neither verify a remediation nor close a proposal as resolved.
// Alertmanager's API lists only alerts that have not resolved.
func (v *Verifier) activeAlerts(ctx context.Context, labels map[string]string) (int, error) {
	if v.Alertmanager == "" {
		return 0, errors.New("verify: the runbook waits for the alert to resolve but alertmanager.url is not configured")
	}
	q := url.Values{"active": {"true"}, "silenced": {"true"}, "inhibited": {"true"}, "unprocessed": {"true"}}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q.Add("filter", fmt.Sprintf("%s=%q", k, labels[k]))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(v.Alertmanager, "/")+"/api/v2/alerts?"+q.Encode(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := v.client().Do(req)
	if err != nil {
		return 0, fmt.Errorf("verify: ask Alertmanager: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("verify: Alertmanager answered %s", resp.Status)
	}
	var alerts []struct {
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		return 0, fmt.Errorf("verify: read Alertmanager's answer: %w", err)
	}
	n := 0
	for _, al := range alerts {
		switch al.Status.State {
		case "active", "suppressed", "unprocessed":
			n++
		}
	}
	return n, nil
}

// query says whether a PromQL expression holds: a non-empty result whose values are
// not all zero (a comparison drops the series that fail it).
func (v *Verifier) query(ctx context.Context, q string) (bool, error) {
	api, err := v.prometheus()
	if err != nil {
		return false, err
	}
	val, _, _, err := api.Query(ctx, q, time.Now())
	if err != nil {
		return false, fmt.Errorf("verify: query Prometheus: %w", err)
	}
	switch r := val.(type) {
	case model.Vector:
		return len(r) > 0, nil
	case *model.Scalar:
		return r.Value != 0, nil
	default:
		return false, fmt.Errorf("verify: the query returns a %s, want a vector or a scalar", val.Type())
	}
}

// prometheus is the Prometheus API the PromQL checks ask.
func (v *Verifier) prometheus() (promv1.API, error) {
	if v.Prometheus == "" {
		return nil, errors.New("verify: the runbook has a PromQL check but prometheus.url is not configured")
	}
	c, err := promapi.NewClient(promapi.Config{Address: v.Prometheus, Client: v.client()})
	if err != nil {
		return nil, err
	}
	return promv1.NewAPI(c), nil
}

func (v *Verifier) client() *http.Client {
	if v.Client != nil {
		return v.Client
	}
	return &http.Client{Timeout: 10 * time.Second}
}
