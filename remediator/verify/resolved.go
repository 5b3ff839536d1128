package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
)

// Resolved says whether the Alertmanager alert behind a proposal has stopped firing:
// the fallback for a resolved notification that never arrived. Only alerts that came
// from Alertmanager are asked about, and not while Alertmanager is younger than
// RestartGrace: one that just restarted without its state has not heard again of
// alerts that still fire.
func (v *Verifier) Resolved(ctx context.Context, a *artifact.Artifact, now time.Time) (bool, string, error) {
	if v.Alertmanager == "" || a.Anomaly.Source != intake.SourceAlertmanager || len(a.Anomaly.Labels) == 0 {
		return false, "", nil
	}
	// The alerts first: most proposals are for alerts that still fire, and those
	// need no second question.
	active, err := v.activeAlerts(ctx, a.Anomaly.Labels)
	if err != nil || active > 0 {
		return false, "", err
	}
	started, err := v.started(ctx)
	if err != nil {
		return false, "", err
	}
	if now.Sub(started) < v.RestartGrace {
		return false, "", nil
	}
	return true, "Alertmanager no longer lists the alert as active", nil
}

// started reads when Alertmanager started (GET /api/v2/status, its uptime).
func (v *Verifier) started(ctx context.Context) (time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(v.Alertmanager, "/")+"/api/v2/status", nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := v.client().Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("verify: ask Alertmanager's status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("verify: Alertmanager's status answered %s", resp.Status)
	}
	var st struct {
		Uptime time.Time `json:"uptime"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return time.Time{}, fmt.Errorf("verify: read Alertmanager's status: %w", err)
	}
	if st.Uptime.IsZero() {
		return time.Time{}, fmt.Errorf("verify: Alertmanager's status has no uptime")
	}
	return st.Uptime, nil
}
