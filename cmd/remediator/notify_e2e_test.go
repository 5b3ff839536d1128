package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atc0005/go-teams-notify/v2/adaptivecard"
	"github.com/slack-go/slack"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/notify"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// chat is a local receiver standing for Slack, Teams and a signed webhook at once
// (by path). It checks each payload's shape as it arrives, records each delivery by
// integration and event, and answers what the test says: down (503), or 429 with
// Retry-After once.
type chat struct {
	t  *testing.T
	mu sync.Mutex
	// got counts deliveries per "integration kind"; seen holds the ids.
	got      map[string]int
	events   map[string]notify.Event
	down     bool
	refused  int
	throttle map[string]bool // integrations to answer 429 once
	srv      *httptest.Server
}

const chatSecret = "chat-hmac-secret-42"

func newChat(t *testing.T) *chat {
	c := &chat{t: t, got: map[string]int{}, events: map[string]notify.Event{}, throttle: map[string]bool{}}
	c.srv = httptest.NewServer(c)
	t.Cleanup(c.srv.Close)
	return c
}

var kindRE = regexp.MustCompile(`^([a-z_]+) · ([a-z_]+-[0-9a-f]{32}) · `)

func (c *chat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	integration := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		c.refused++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if c.throttle[integration] {
		delete(c.throttle, integration)
		c.refused++
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	kind, id := c.shape(integration, r, body)
	c.got[integration+" "+kind]++
	if integration == "hook" {
		var e notify.Event
		_ = json.Unmarshal(body, &e)
		c.events[kind] = e
	}
	_ = id
	w.WriteHeader(http.StatusOK)
}

// shape checks a payload and returns its event kind and id.
func (c *chat) shape(integration string, r *http.Request, body []byte) (string, string) {
	t := c.t
	strict := func(v any) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Errorf("%s payload: %v\n%s", integration, err, body)
		}
	}
	switch integration {
	case "slack":
		var m slack.WebhookMessage
		strict(&m)
		if m.Blocks == nil || len(m.Blocks.BlockSet) == 0 {
			t.Errorf("slack message without blocks: %s", body)
			return "", ""
		}
		if _, ok := m.Blocks.BlockSet[0].(*slack.HeaderBlock); !ok {
			t.Errorf("slack message does not start with a header: %s", body)
		}
		ctx, ok := m.Blocks.BlockSet[len(m.Blocks.BlockSet)-1].(*slack.ContextBlock)
		if !ok {
			t.Errorf("slack message does not end with its context: %s", body)
			return "", ""
		}
		sub := kindRE.FindStringSubmatch(ctx.ContextElements.Elements[0].(*slack.TextBlockObject).Text)
		if sub == nil {
			t.Errorf("slack context: %s", body)
			return "", ""
		}
		return sub[1], sub[2]
	case "teams":
		var m adaptivecard.Message
		strict(&m)
		if err := m.Validate(); err != nil || m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != adaptivecard.AttachmentContentType {
			t.Errorf("teams message (%v): %s", err, body)
			return "", ""
		}
		els := m.Attachments[0].Content.Body
		sub := kindRE.FindStringSubmatch(strings.ReplaceAll(els[len(els)-1].Text, `\`, ""))
		if sub == nil {
			t.Errorf("teams card footer: %s", body)
			return "", ""
		}
		return sub[1], sub[2]
	case "hook":
		if !notify.ValidSignature([]byte(chatSecret), body, r.Header.Get(notify.HeaderSignature)) {
			t.Errorf("webhook signature %q does not verify", r.Header.Get(notify.HeaderSignature))
		}
		return r.Header.Get(notify.HeaderEvent), r.Header.Get(notify.HeaderDelivery)
	}
	t.Errorf("post to %s", r.URL.Path)
	return "", ""
}

func (c *chat) count(integration string, kind notify.Kind) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[integration+" "+string(kind)]
}

func (c *chat) setDown(down bool) {
	c.mu.Lock()
	c.down = down
	c.mu.Unlock()
}

func (c *chat) event(kind notify.Kind) notify.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.events[string(kind)]
}

// configure adds the notify section naming the three receivers.
func (c *chat) configure(t *testing.T, cfg string) {
	t.Helper()
	t.Setenv("TEST_SLACK_URL", c.srv.URL+"/slack/T000/B000/xoxsecret")
	t.Setenv("TEST_TEAMS_URL", c.srv.URL+"/teams/webhookb2/secret")
	t.Setenv("TEST_HOOK_URL", c.srv.URL+"/hook")
	t.Setenv("TEST_HOOK_SECRET", chatSecret)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, `notify:
  status_url: http://remediator.test
  receivers:
    - {name: sre, type: slack, url_env: TEST_SLACK_URL}
    - {name: ops, type: teams, url_env: TEST_TEAMS_URL}
    - {name: hook, type: webhook, url_env: TEST_HOOK_URL, secret_env: TEST_HOOK_SECRET}
`)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// wantOnce waits for each kind to reach every receiver, then checks that none came
// twice. The wait is functional, not a speed test: two serve processes under -race
// catching up on a busy two-core machine once took more than a minute.
func (c *chat) wantOnce(t *testing.T, kinds ...notify.Kind) {
	t.Helper()
	for _, k := range kinds {
		waitForWithin(t, "notification "+string(k), 3*time.Minute, func() bool {
			return c.count("slack", k) >= 1 && c.count("teams", k) >= 1 && c.count("hook", k) >= 1
		})
	}
	time.Sleep(500 * time.Millisecond)
	for _, k := range kinds {
		for _, in := range []string{"slack", "teams", "hook"} {
			if n := c.count(in, k); n != 1 {
				t.Errorf("%s got %s %d times", in, k, n)
			}
		}
	}
}

var breakerOfOne = func(p *runbooks.Policy) {
	p.Spec.CircuitBreaker = runbooks.CircuitBreaker{Failures: 1, Window: runbooks.Duration(time.Hour), Cooldown: runbooks.Duration(time.Hour)}
}

// The whole loop on the local forge, with real Prometheus and Alertmanager and serve
// doing every pass: each receiver is told, once, that the proposal waits (and for
// whom), that it merged, that it failed and its rollback was proposed, and that the
// failure suspended the runbook; the receivers are down when the first event
// happens and get it once they are back. The time-to-remediate histograms fill.
func TestNotificationsOnTheLocalForge(t *testing.T) {
	cfg := publishedCatalogWith(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		rb.Spec.Verify = verifySpec(3*time.Second, 0, time.Minute, "")
		breakerOfOne(p)
	})
	infra := infraRepo(t, cfg)
	c := newChat(t)
	c.configure(t, cfg)
	c.setDown(true)
	addr := freeAddr(t)
	monitored(t, cfg, addr, true)
	t.Cleanup(startServe(t, cfg, addr, "--reconcile-interval", "300ms"))

	id := decision.ID("scale-out-api", "service=api-gateway")
	waitFor(t, "the alert to become a proposal", func() bool {
		_, err := gittest.Output(infra, "rev-parse", "--verify", "-q", decision.Branch(id))
		return err == nil
	})
	waitFor(t, "the receivers to be tried while down", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.refused >= 3 })
	c.setDown(false)
	c.wantOnce(t, notify.ProposalWaiting)
	if e := c.event(notify.ProposalWaiting); e.RemediationID != id || e.Approval == nil || e.Approval.Required != 1 ||
		e.URL != "http://remediator.test/remediations/"+id || e.Times.AnomalyStart.IsZero() || e.Target == "" {
		t.Fatalf("proposal event %+v", e)
	}

	aliceApproves(t, cfg, id)
	c.wantOnce(t, notify.Merged)
	if e := c.event(notify.Merged); len(e.Approvers) != 1 || !strings.HasPrefix(e.Approvers[0], "alice") || e.Times.Merged.Before(e.Times.Proposed) {
		t.Fatalf("merged event %+v", e)
	}
	applied(t, cfg, infra)
	c.wantOnce(t, notify.Failed, notify.Suspended)
	if e := c.event(notify.Failed); e.Rollback != decision.Branch(id+"-rollback") {
		t.Fatalf("failed event %+v", e)
	}
	if e := c.event(notify.Suspended); !strings.Contains(e.Detail, "circuit breaker of policy production") {
		t.Fatalf("suspended event %+v", e)
	}
	m := scrape(t, addr)
	for _, want := range []string{
		`remediator_time_to_propose_seconds_count{runbook="scale-out-api"} 1`,
		`remediator_time_to_merge_seconds_count{runbook="scale-out-api"} 1`,
		`remediator_notifications_total{integration="slack",outcome="delivered",receiver="sre"} 4`,
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, "xoxsecret") {
		t.Error("metrics show a webhook URL")
	}
}

// serve stops after the proposal is queued for the receivers and before they could
// be told (they are down); the next serve delivers it, once. Then the remediation
// is verified: the receivers are told, and the verified time fills its histogram.
func TestNotificationSurvivesARestartAndVerified(t *testing.T) {
	cfg := publishedCatalogWith(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		rb.Spec.Verify = verifySpec(2*time.Minute, 0, time.Minute, latencyOK)
	})
	infra := infraRepo(t, cfg)
	c := newChat(t)
	c.configure(t, cfg)
	c.setDown(true)
	addr := freeAddr(t)
	g := monitored(t, cfg, addr, true)
	stop := startServe(t, cfg, addr, "--reconcile-interval", "300ms")
	id := decision.ID("scale-out-api", "service=api-gateway")
	waitFor(t, "the alert to become a proposal", func() bool {
		_, err := gittest.Output(infra, "rev-parse", "--verify", "-q", decision.Branch(id))
		return err == nil
	})
	waitFor(t, "a failed delivery", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.refused >= 1 })
	stop()
	c.setDown(false)
	t.Cleanup(startServe(t, cfg, addr, "--reconcile-interval", "300ms"))
	c.wantOnce(t, notify.ProposalWaiting)

	aliceApproves(t, cfg, id)
	c.wantOnce(t, notify.Merged)
	g.set(0.2)
	applied(t, cfg, infra)
	c.wantOnce(t, notify.Verified)
	if e := c.event(notify.Verified); e.Times.Verified.Before(e.Times.Merged) || e.Times.AnomalyStart.IsZero() {
		t.Fatalf("verified event %+v", e)
	}
	waitFor(t, "the verified histogram", func() bool {
		return strings.Contains(scrape(t, addr), `remediator_time_to_verify_seconds_count{runbook="scale-out-api"} 1`+"\n")
	})
	// The same figures per remediation, from Git alone: audit and the status page.
	code, out, errs := cli(t, "audit", "--repository", infra, "--format", "json")
	var ledger []struct {
		ID     string `json:"id"`
		TimeTo struct {
			Propose *float64 `json:"propose_seconds"`
			Merge   *float64 `json:"merge_seconds"`
			Verify  *float64 `json:"verify_seconds"`
		} `json:"time_to_remediate"`
	}
	if err := json.Unmarshal([]byte(out), &ledger); code != 0 || err != nil || len(ledger) != 1 || ledger[0].TimeTo.Propose == nil ||
		ledger[0].TimeTo.Merge == nil || ledger[0].TimeTo.Verify == nil || *ledger[0].TimeTo.Verify < *ledger[0].TimeTo.Merge {
		t.Fatalf("audit: %d %v %s %s", code, err, out, errs)
	}
	if _, table, _ := cli(t, "audit", "--repository", infra); !strings.Contains(table, "TIME TO PROPOSE / MERGE / VERIFY") {
		t.Fatalf("audit table:\n%s", table)
	}
	resp, err := http.Get("http://" + addr + "/remediations/" + id)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Time to remediate, from the anomaly") || strings.Contains(string(page), "verified -.") {
		t.Fatalf("status page:\n%s", page)
	}
}

// On the GitHub test server: the proposal event links the pull request and names the
// required reviewers; merged, failed with the rollback pull request, and the
// suspension follow; Slack answers 429 with Retry-After once and is told after.
func TestNotificationsOnGitHub(t *testing.T) {
	cfg, srv, bare := githubSetup(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredReviewers = []string{"alice"}
		rb.Spec.Verify = verifySpec(3*time.Second, 0, time.Minute, "")
		breakerOfOne(p)
	})
	// `remediator applied` reports with the forge's token here: its login is CI's,
	// and on GitHub only a listed reporter's status counts.
	withForgeLines(t, cfg, "check_reporters: [remediator-bot]")
	c := newChat(t)
	c.throttle["slack"] = true
	c.configure(t, cfg)
	addr := freeAddr(t)
	monitored(t, cfg, addr, true)
	t.Cleanup(startServe(t, cfg, addr, "--reconcile-interval", "300ms"))
	waitFor(t, "the pull request", func() bool { return len(srv.PullRequests("acme", "infra")) == 1 })
	c.wantOnce(t, notify.ProposalWaiting)
	pr := srv.PullRequests("acme", "infra")[0]
	if e := c.event(notify.ProposalWaiting); !strings.HasSuffix(e.URL, fmt.Sprintf("/pull/%d", pr.Number)) || e.Approval == nil || len(e.Approval.Reviewers) != 1 {
		t.Fatalf("proposal event %+v", e)
	}
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, time.Now())
	c.wantOnce(t, notify.Merged)
	applied(t, cfg, bare)
	c.wantOnce(t, notify.Failed, notify.Suspended)
	if n := c.count("slack", notify.ProposalWaiting); n != 1 {
		t.Fatalf("after the 429, slack was told %d times", n)
	}
}

// A receiver whose URL the environment does not hold stops serve at once, exit 2,
// naming the setting and the variable, never a value.
func TestServeRefusesAnUnsetWebhookURL(t *testing.T) {
	cfg := publishedCatalog(t)
	c := newChat(t)
	c.configure(t, cfg)
	t.Setenv("TEST_TEAMS_URL", "")
	t.Setenv("TEST_HOOK_URL", "ftp://hooks.example.com/s3cr3t")
	code, _, errs := cli(t, "serve", "--config", cfg, "--listen", freeAddr(t))
	if code != 2 || !strings.Contains(errs, "notify.receivers[1].url_env names TEST_TEAMS_URL, which is unset or empty") ||
		!strings.Contains(errs, "notify.receivers[2].url_env: TEST_HOOK_URL does not hold an http(s) URL") || strings.Contains(errs, "s3cr3t") {
		t.Fatalf("serve: exit %d\n%s", code, errs)
	}
}

// A proposal the one-shot `propose` opens is told to every receiver, as serve tells
// one (a team that runs propose from a cron job or a script hears of it too); a dry
// run tells nobody.
func TestOneShotProposeNotifies(t *testing.T) {
	cfg := publishedCatalog(t)
	infraRepo(t, cfg)
	c := newChat(t)
	c.configure(t, cfg)
	if code, _, errs := proposeRun(t, cfg, alert("api-gateway"), "--dry-run"); code != 0 {
		t.Fatalf("dry run exit %d: %s", code, errs)
	}
	for _, in := range []string{"slack", "teams", "hook"} {
		if n := c.count(in, notify.ProposalWaiting); n != 0 {
			t.Fatalf("a dry run told %s %d times", in, n)
		}
	}
	if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	c.wantOnce(t, notify.ProposalWaiting)
	id := decision.ID("scale-out-api", "service=api-gateway")
	if e := c.event(notify.ProposalWaiting); e.RemediationID != id || e.URL != "http://remediator.test/remediations/"+id {
		t.Fatalf("proposal event %+v", e)
	}
}
