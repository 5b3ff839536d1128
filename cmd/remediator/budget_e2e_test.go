package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/daemon"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// When the forge's rate limit is down to the reserve (other tools share the token),
// serve gives up its timed passes, not its merges: an approved proposal whose
// required check turns green waits unmerged while timed passes are spared, and the
// check's webhook delivery merges it at once.
func TestLowBudgetSparesTimedPassesNotMerges(t *testing.T) {
	cfg, srv, _ := githubSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredReviewers = []string{"alice"}
		p.Spec.RequiredChecks = []string{"terraform-plan"}
	})
	withForgeLines(t, cfg, "check_reporters: [ci]", "webhook_secret_env: TEST_WEBHOOK_SECRET")
	const secret = "whsec-budget"
	t.Setenv("TEST_WEBHOOK_SECRET", secret)
	// 4,600 of 5,000 spent: less than the tenth kept for merges and verifications.
	srv.SpendRateLimit(4600)
	addr := freeAddr(t)
	stop := startServe(t, cfg, addr, "--reconcile-interval", "1s")
	defer stop()
	if code, body := post(t, addr, "/v1/alertmanager", "", alert("api-gateway")); code != http.StatusAccepted {
		t.Fatalf("intake: %d %s", code, body)
	}
	waitFor(t, "the pull request", func() bool { return len(srv.PullRequests("acme", "infra")) == 1 })
	pr := srv.PullRequests("acme", "infra")[0]
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, time.Now())
	approved := time.Now()
	id := decision.ID("scale-out-api", "service=api-gateway")
	lastPass := daemon.LastPassFile(filepath.Join(filepath.Dir(cfg), "state"))
	full := func() time.Time {
		l, found, err := daemon.ReadLastPass(lastPass)
		if err != nil || !found {
			return time.Time{}
		}
		if _, ok := l.Proposals[id]; !ok {
			return time.Time{}
		}
		return l.Full
	}
	// The first timed pass runs (what a pass costs is not known before one); it
	// reads the approved proposal's reviews and checks, which costs requests: the
	// cost the next timed passes are judged by.
	waitFor(t, "a timed pass over the approved proposal", func() bool { return full().After(approved) })
	spared := func() int {
		n := 0
		for _, line := range strings.Split(scrape(t, addr), "\n") {
			if v, ok := strings.CutPrefix(line, "remediator_reconcile_passes_spared_total "); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		return n
	}
	waitFor(t, "timed passes spared", func() bool { return spared() >= 2 })
	seen := full()
	srv.CheckRun("acme", "infra", pr.HeadSHA, "terraform-plan", "completed", "success")
	after := spared()
	waitFor(t, "more timed passes spared", func() bool { return spared() >= after+3 })
	if srv.PullRequests("acme", "infra")[0].Merged {
		t.Fatal("a timed pass merged with only the reserve of the rate limit left")
	}
	if now := full(); !now.Equal(seen) {
		t.Fatalf("a timed pass ran at %s with only the reserve of the rate limit left", now)
	}
	payload := fmt.Sprintf(`{"action":"completed","check_run":{"head_sha":%q,"name":"terraform-plan","status":"completed","conclusion":"success"}}`, pr.HeadSHA)
	if code := deliverGitHub(t, addr, secret, "check_run", payload); code != http.StatusAccepted {
		t.Fatalf("check run delivery: %d", code)
	}
	waitFor(t, "the merge the check's delivery asked for", func() bool { return srv.PullRequests("acme", "infra")[0].Merged })
}

// deliverGitHub delivers a webhook event to serve, signed as GitHub signs it.
func deliverGitHub(b testing.TB, addr, secret, event, payload string) int {
	b.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/github", strings.NewReader(payload))
	if err != nil {
		b.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// serve's passes revalidate what they read (304s, free of the rate limit), and a
// review that changed since is seen: a "changes requested" that came after passes
// answered 304 blocks the merge once the check turns green, and the approval that
// replaces it merges. What is merged or refused is what GitHub says now.
func TestServeSeesAReviewChangedAfter304s(t *testing.T) {
	cfg, srv, _ := githubSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredReviewers = []string{"alice"}
		p.Spec.RequiredChecks = []string{"terraform-plan"}
	})
	srv.AddCollaborator("bob")
	withForgeLines(t, cfg, "check_reporters: [ci]")
	addr := freeAddr(t)
	stop := startServe(t, cfg, addr, "--reconcile-interval", "1s")
	defer stop()
	if code, body := post(t, addr, "/v1/alertmanager", "", alert("api-gateway")); code != http.StatusAccepted {
		t.Fatalf("intake: %d %s", code, body)
	}
	waitFor(t, "the pull request", func() bool { return len(srv.PullRequests("acme", "infra")) == 1 })
	pr := srv.PullRequests("acme", "infra")[0]
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, time.Now())
	id := decision.ID("scale-out-api", "service=api-gateway")
	lastPass := daemon.LastPassFile(filepath.Join(filepath.Dir(cfg), "state"))
	last := "no pass yet"
	reason := func() string {
		l, _, err := daemon.ReadLastPass(lastPass)
		if err != nil || l == nil {
			return ""
		}
		last = fmt.Sprintf("last pass at %s: error %q, proposal %+v", l.At, l.Error, l.Proposals[id])
		return l.Proposals[id].Reason
	}
	waitReason := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for !strings.Contains(reason(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %s", what, last)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitReason("a pass waiting for the check", "not reported yet: terraform-plan")
	revalidated := srv.NotModified()
	waitFor(t, "passes answered 304", func() bool { return srv.NotModified() >= revalidated+3 })

	srv.Review("acme", "infra", pr.Number, "bob", "CHANGES_REQUESTED", pr.HeadSHA, time.Now())
	waitReason("a pass refusing for bob's review", "changes requested by bob")
	// The check turns green: passes go on refusing (one pass reads the reviews
	// before the checks, so the check comes after a pass saw bob's review).
	srv.CheckRun("acme", "infra", pr.HeadSHA, "terraform-plan", "completed", "success")
	at := func() time.Time {
		l, _, err := daemon.ReadLastPass(lastPass)
		if err != nil || l == nil {
			return time.Time{}
		}
		return l.At
	}
	green := time.Now()
	waitFor(t, "passes after the check turned green", func() bool { return at().After(green.Add(2 * time.Second)) })
	if srv.PullRequests("acme", "infra")[0].Merged || !strings.Contains(reason(), "changes requested by bob") {
		t.Fatalf("merged, or not refused for bob's review (%s)", last)
	}
	srv.Review("acme", "infra", pr.Number, "bob", "APPROVED", pr.HeadSHA, time.Now())
	waitFor(t, "the merge once bob approved", func() bool { return srv.PullRequests("acme", "infra")[0].Merged })
}
