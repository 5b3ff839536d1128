package status_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/audit"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/status"
)

func page(t *testing.T, token string) *httptest.Server {
	t.Helper()
	median := audit.Seconds(300)
	snap := &status.Snapshot{
		GeneratedAt: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Base: "main",
		Proposals: []status.Item{{ID: "scale-out-api-0123456789", Runbook: "scale-out-api", Branch: "remediation/scale-out-api-0123456789",
			State: string(decision.Waiting), Reason: "0 of 1 approval(s) on the head commit",
			Labels: map[string]string{"alertname": "HighLatency", "service": `<script>alert("x")</script>`}}},
		Verifying: []status.Item{}, Outcomes: []status.Item{},
		Runbooks: []status.Runbook{{Name: "scale-out-api", Enabled: true, Risk: "medium", Version: "abc", Record: records.Record{Verified: 2, Streak: 2},
			Chart: &status.Chart{Verified: 2, Median: &median, Bars: []status.ChartBar{{X: 290, Y: 0, W: 8, H: 40, Fill: "#5cb85c", Label: "2026-11-30: 2 verified"}}}}},
	}
	mux := http.NewServeMux()
	(&status.Page{
		Snapshot: func(context.Context) (*status.Snapshot, error) { return snap, nil },
		Timeline: func(_ context.Context, id string) (*status.Remediation, error) {
			if id != "scale-out-api-0123456789" {
				return nil, status.ErrUnknown
			}
			return &status.Remediation{ID: id, Runbook: "scale-out-api", Timeline: []status.Event{{What: "proposed by runbook scale-out-api"}}}, nil
		},
		BearerToken: token, Refresh: 10 * time.Second,
	}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url, token string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// What comes from an alert is shown as text, never as markup; the page needs no
// script and allows none.
func TestPageEscapesWhatAlertsCarry(t *testing.T) {
	srv := page(t, "")
	code, body, h := get(t, srv.URL+"/", "")
	if code != 200 || strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Fatalf("%d:\n%s", code, body)
	}
	for _, want := range []string{"0 of 1 approval(s) on the head commit", `href="/remediations/scale-out-api-0123456789"`, `http-equiv="refresh" content="10"`,
		`name="viewport"`, "2 verified in a row",
		`<svg class="chart"`, `<rect x="290.0" y="0.0" width="8.0" height="40.0" fill="#5cb85c"><title>2026-11-30: 2 verified</title></rect>`,
		"2 verified, 0 failed, 0 other; median time to remediate 5m0s"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if code, body, _ := get(t, srv.URL+"/remediations/scale-out-api-0123456789", ""); code != 200 || !strings.Contains(body, "proposed by runbook scale-out-api") {
		t.Errorf("timeline: %d %s", code, body)
	}
	if code, _, _ := get(t, srv.URL+"/remediations/nope", ""); code != 404 {
		t.Errorf("unknown remediation: %d", code)
	}
	if code, _, _ := get(t, srv.URL+"/runbooks/nope", ""); code != 404 {
		t.Errorf("unknown runbook: %d", code)
	}
	code, body, _ = get(t, srv.URL+"/api/v1/status", "")
	var snap status.Snapshot
	if err := json.Unmarshal([]byte(body), &snap); code != 200 || err != nil || snap.Proposals[0].Labels["service"] != `<script>alert("x")</script>` {
		t.Errorf("json: %d %v %s", code, err, body)
	}
}

// With a bearer token every route wants it, in the header or as ?token=, and links
// carry it on.
func TestPageBearerToken(t *testing.T) {
	srv := page(t, "s3cret-token")
	for _, path := range []string{"/", "/api/v1/status", "/runbooks/scale-out-api", "/remediations/scale-out-api-0123456789"} {
		if code, body, _ := get(t, srv.URL+path, ""); code != 401 || strings.Contains(body, "scale-out-api") {
			t.Errorf("%s without the token: %d %s", path, code, body)
		}
		if code, _, _ := get(t, srv.URL+path, "wrong"); code != 401 {
			t.Errorf("%s with a wrong token: %d", path, code)
		}
		if code, _, _ := get(t, srv.URL+path, "s3cret-token"); code != 200 {
			t.Errorf("%s with the token: %d", path, code)
		}
	}
	code, body, _ := get(t, srv.URL+"/?token=s3cret-token", "")
	if code != 200 || !strings.Contains(body, `href="/runbooks/scale-out-api?token=s3cret-token"`) {
		t.Fatalf("bookmark: %d %s", code, body)
	}
}
