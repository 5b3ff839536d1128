package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// browser starts Debian's chromium headless, driven by chromedp.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (Debian's chromium package; .ci/run installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Headless, chromedp.Flag("window-size", "420,900")) // a phone's width
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// artifactsDir is where the browser tests leave their screenshots.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("REMEDIATOR_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", ".tools", "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pageShows reloads the page in the browser until its text holds every want (the
// status is a snapshot a few seconds old at most), saves a screenshot, and returns
// the text.
func pageShows(t *testing.T, ctx context.Context, url, shot string, want ...string) string {
	t.Helper()
	var text string
	deadline := time.Now().Add(60 * time.Second)
	for {
		run, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := chromedp.Do(run, chromedp.Navigate(url))
		if err == nil {
			text, err = chromedp.Run(run, chromedp.Text(chromedp.CSS("body")))
		}
		cancel()
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if err == nil && missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never showed %q (err %v):\n%s", missing, err, text)
		}
		time.Sleep(time.Second)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 makes a PNG
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(artifactsDir(t), shot)
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
	return text
}

// noMarkupFromAlerts checks that a label value carrying HTML is on the page as text,
// and made no element.
func noMarkupFromAlerts(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	injected, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("main img, main b, main script") !== null`))
	if err != nil {
		t.Fatal(err)
	}
	if injected || !strings.Contains(text, `<b>ops</b><img src=x onerror=alert(1)>`) {
		t.Fatalf("a label's HTML became markup (%v) or is not shown as text:\n%s", injected, text)
	}
}

// htmlAlert is an Alertmanager notification for api-second whose owner label holds HTML.
func htmlAlert() string {
	return strings.Replace(alert("api-second"), `"env":"prod"`, `"env":"prod","owner":"<b>ops</b><img src=x onerror=alert(1)>"`, 1)
}

func postAlert(t *testing.T, addr, body string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/v1/alertmanager", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post alert: %v %v", resp, err)
	}
	resp.Body.Close()
}

// The status page in a real browser, on the local forge, as the loop goes: a waiting
// proposal with its reason, then the merge being verified, then the verified outcome;
// a label with HTML in it is text.
func TestStatusPageInBrowserLocalForge(t *testing.T) {
	ctx := browser(t)
	cfg := publishedCatalogWith(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) {
		rb.Spec.Verify = verifySpec(2*time.Minute, 2*time.Second, time.Minute, latencyOK)
	})
	infra := infraRepo(t, cfg)
	addr := freeAddr(t)
	g := monitored(t, cfg, addr, true)
	t.Cleanup(startServe(t, cfg, addr, "--reconcile-interval", "0"))
	id := decision.ID("scale-out-api", "service=api-gateway")
	waitFor(t, "the alert to become a proposal", func() bool {
		_, err := gittest.Output(infra, "rev-parse", "--verify", "-q", decision.Branch(id))
		return err == nil
	})
	postAlert(t, addr, htmlAlert())
	url := "http://" + addr + "/"
	text := pageShows(t, ctx, url, "local-1-waiting.png", "Open proposals (2)", id, "waiting", "0 of 1 approval(s) on the head commit")
	noMarkupFromAlerts(t, ctx, text)

	if code, _, errs := cli(t, "approve", "--config", cfg, "--id", id, "--key", keyOf(cfg, "alice")); code != 0 {
		t.Fatal(errs)
	}
	pageShows(t, ctx, url, "local-2-would-merge.png", "would-merge", "passes every gate")
	if code, out, errs := cli(t, "reconcile", "--config", cfg); code != 0 || !strings.Contains(out, "merged: ") {
		t.Fatalf("reconcile: %d %s %s", code, out, errs)
	}
	pageShows(t, ctx, url, "local-3-verifying.png", "Merged, being verified (1)", "waiting for check terraform-apply")
	applied(t, cfg, infra)
	g.set(0.2)
	waitFor(t, "the outcome", func() bool {
		_, out, _ := cli(t, "reconcile", "--config", cfg)
		return strings.Contains(out, "verified: "+id)
	})
	pageShows(t, ctx, url, "local-4-verified.png", "Recent outcomes", "verified", "held for the soak period of 2s",
		"1 verified, 0 failed, 0 other; median time to remediate ")
	// The runbook's last 30 days: a server-rendered SVG chart, a rect for today's
	// verified outcome above its baseline.
	if rects, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("svg.chart rect"))); err != nil || len(rects) != 2 {
		t.Fatalf("30-day chart: %d rects, %v", len(rects), err)
	}
	text = pageShows(t, ctx, "http://"+addr+"/remediations/"+id, "local-5-timeline.png",
		"anomaly", "proposed by runbook scale-out-api", "approved by alice@example.com (via ssh)", "merged as", "applied", "verified:",
		"Time to remediate, from the anomaly's start: proposed", "waiting for approval: ", "soak: ")
	if strings.Index(text, "approved by") > strings.Index(text, "merged as") {
		t.Fatalf("the timeline is out of order:\n%s", text)
	}
	// The timeline to scale: a server-rendered SVG bar, a rect per stage.
	if rects, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("svg.bar rect"))); err != nil || len(rects) < 5 {
		t.Fatalf("timeline bar: %d rects, %v", len(rects), err)
	}
	pageShows(t, ctx, "http://"+addr+"/runbooks/scale-out-api", "local-6-runbook.png", "Runbook scale-out-api", "1 verified in a row")
}

// The same page on the GitHub-compatible server links the pull request.
func TestStatusPageInBrowserGitHub(t *testing.T) {
	ctx := browser(t)
	cfg, srv, bare, g, addr := githubLoop(t, "1h", verifySpec(2*time.Minute, 0, time.Minute, latencyOK), nil)
	waitFor(t, "the alert to become a pull request", func() bool { return len(srv.PullRequests("acme", "infra")) == 1 })
	pr := srv.PullRequests("acme", "infra")[0]
	url := "http://" + addr + "/"
	text := pageShows(t, ctx, url, "github-1-waiting.png", "Open proposals (1)", "waiting", "0 of 1 approval(s)", "pull request")
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`main a[href*="/pull/"]`), "href"))
	if err != nil || !strings.HasSuffix(href.Value, fmt.Sprintf("/pull/%d", pr.Number)) {
		t.Fatalf("no link to the pull request (%v): %q\n%s", err, href.Value, text)
	}
	srv.Review("acme", "infra", pr.Number, "alice", "APPROVED", pr.HeadSHA, time.Now())
	waitFor(t, "the merge", func() bool { return srv.PullRequests("acme", "infra")[0].Merged })
	g.set(0.2)
	applied(t, cfg, bare)
	pageShows(t, ctx, url, "github-2-verified.png", "Recent outcomes", "verified")
}
