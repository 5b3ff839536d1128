package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/giteatest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// sharedGitea is the one real Gitea of this package's run, started by the first
// test that needs it.
var sharedGitea giteatest.Shared

// giteaPR is a pull request as Gitea's API shows it, the fields the tests read.
type giteaPR struct {
	Number int    `json:"number"`
	Body   string `json:"body"`
	Merged bool   `json:"merged"`
	State  string `json:"state"`
	SHA    string `json:"merge_commit_sha"`
	Head   struct {
		SHA string `json:"sha"`
	} `json:"head"`
	Labels []struct {
		Name string `json:"name"`
	} `json:"labels"`
	Reviewers []struct {
		Login string `json:"login"`
	} `json:"requested_reviewers"`
}

// giteaWorld is a repository on the real Gitea holding the infrastructure files, the
// people (alice and carol write, bob reads, ci reports checks) and a remediator
// configured with forge.type gitea (its account administers the repository).
type giteaWorld struct {
	t    *testing.T
	s    *giteatest.Server
	repo string
	cfg  string
}

func giteaSetup(t *testing.T, adjust func(*runbooks.Runbook, *runbooks.Policy)) *giteaWorld {
	t.Helper()
	s := sharedGitea.Need(t)
	cfg := publishedCatalogWith(t, func(rb *runbooks.Runbook, pol *runbooks.Policy) {
		pol.Spec.RequiredReviewers = []string{"alice"}
		pol.Spec.RequiredChecks = []string{"terraform-plan"}
		rb.Spec.Cooldown = runbooks.Duration(time.Hour)
		adjust(rb, pol)
	})
	repo := s.Repo(t, fmt.Sprintf("infra-%d", time.Now().UnixNano()))
	s.File(t, giteatest.Admin, repo, "main", "", "envs/api-gateway.auto.tfvars", "# API gateway sizing\nreplicas      = 4 # raised in March\ninstance_type = \"m6i.large\"\n")
	for login, perm := range map[string]string{"alice": "write", "carol": "write", "bob": "read", "ci": "write"} {
		s.Collaborator(t, repo, login, perm)
	}
	t.Setenv("TEST_GITEA_TOKEN", s.Token)
	writeFile(t, cfg, fmt.Sprintf(`catalog:
  repository: ./catalog.git
infrastructure:
  repository: %s/%s/%s.git
forge:
  type: gitea
  owner: %s
  repository: %s
  base_url: %s
  token_env: TEST_GITEA_TOKEN
  check_reporters: [ci]
state_dir: ./state
`, s.URL, giteatest.Admin, repo, giteatest.Admin, repo, s.URL))
	return &giteaWorld{t: t, s: s, repo: repo, cfg: cfg}
}

func (w *giteaWorld) api(login, method, path string, in, out any) {
	w.t.Helper()
	if err := w.s.API(context.Background(), login, method, "/repos/"+giteatest.Admin+"/"+w.repo+path, in, out); err != nil {
		w.t.Fatal(err)
	}
}

func (w *giteaWorld) pr(number int) giteaPR {
	w.t.Helper()
	var pr giteaPR
	w.api(giteatest.Admin, http.MethodGet, fmt.Sprintf("/pulls/%d", number), nil, &pr)
	return pr
}

// approve submits login's approval of the pull request's head.
func (w *giteaWorld) approve(login string, number int) int64 {
	w.t.Helper()
	var out struct {
		ID int64 `json:"id"`
	}
	w.api(login, http.MethodPost, fmt.Sprintf("/pulls/%d/reviews", number), map[string]any{"event": "APPROVED", "body": "by " + login}, &out)
	return out.ID
}

func (w *giteaWorld) status(login, sha, context, state string) {
	w.t.Helper()
	w.api(login, http.MethodPost, "/statuses/"+sha, map[string]any{"state": state, "context": context}, nil)
}

// reconcile runs one pass and returns what it printed; a merge Gitea cannot make
// yet (mergeability of a head just pushed) is a wait, tried again as serve would.
func (w *giteaWorld) reconcile() string {
	w.t.Helper()
	for i := 0; ; i++ {
		out := reconcileGH(w.t, w.cfg)
		if !strings.Contains(out, "cannot merge yet") || i == 30 {
			return out
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestGiteaLoop: the whole loop on a real Gitea, with the attacks a forge with
// reviews invites refused on the way: an alert proposes a pull request (body,
// labels, reviewer); a pull request alice forges with the marker names nothing; a
// read-only account's approval, a dismissed approval and a status by someone who
// is not a reporter count for nothing; alice's approval and ci's status merge it
// at the reviewed head with the trailers; `applied` sets the applied status as CI;
// `audit verify` finds nothing.
func TestGiteaLoop(t *testing.T) {
	w := giteaSetup(t, func(*runbooks.Runbook, *runbooks.Policy) {})
	id := decision.ID("scale-out-api", "service=api-gateway")
	if code, out, errs := proposeRun(t, w.cfg, alert("api-gateway")); code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("propose: %d %s %s", code, out, errs)
	}
	pr := w.pr(1)
	labels := []string{}
	for _, l := range pr.Labels {
		labels = append(labels, l.Name)
	}
	if !strings.Contains(pr.Body, "<!-- remediation:proposal id="+id) || strings.Join(labels, ",") != "remediation,risk:medium" ||
		len(pr.Reviewers) != 1 || pr.Reviewers[0].Login != "alice" {
		t.Fatalf("pull request %+v", pr)
	}
	if strings.Contains(pr.Body, w.s.Token) {
		t.Fatal("the token leaked into the pull request")
	}
	if out := w.reconcile(); !strings.Contains(out, "0 of 1 approval(s)") {
		t.Fatalf("no review yet: %s", out)
	}

	// A forged pull request: alice opens one from her own branch with the
	// remediator's marker. The pass looks at nothing of it.
	w.s.File(t, "alice", w.repo, "remediation/forged", "main", "envs/forged.auto.tfvars", "replicas = 99\n")
	w.api("alice", http.MethodPost, "/pulls", map[string]any{"head": "remediation/forged", "base": "main", "title": "forged", "body": strings.ReplaceAll(pr.Body, id, "forged")}, nil)
	w.approve("carol", 2)
	if out := w.reconcile(); strings.Contains(out, "forged") || w.pr(2).Merged {
		t.Fatalf("the forged pull request was taken as a proposal: %s", out)
	}

	// bob may only read: his approval counts for nothing.
	w.approve("bob", 1)
	if out := w.reconcile(); !strings.Contains(out, "0 of 1 approval(s)") || !strings.Contains(out, "bob") {
		t.Fatalf("a read-only approval: %s", out)
	}
	// alice approves, an administrator dismisses it: nothing again.
	rid := w.approve("alice", 1)
	w.api(giteatest.Admin, http.MethodPost, fmt.Sprintf("/pulls/1/reviews/%d/dismissals", rid), map[string]any{"message": "not yet"}, nil)
	if out := w.reconcile(); !strings.Contains(out, "0 of 1 approval(s)") {
		t.Fatalf("a dismissed approval counted: %s", out)
	}
	// alice approves again; the required check: carol's success is no report, ci's
	// failure is.
	w.approve("alice", 1)
	w.status("carol", pr.Head.SHA, "terraform-plan", "success")
	if out := w.reconcile(); !strings.Contains(out, "required checks not green") {
		t.Fatalf("a non-reporter's status counted: %s", out)
	}
	w.status("ci", pr.Head.SHA, "terraform-plan", "success")
	out := w.reconcile()
	if !strings.Contains(out, "merged: ") {
		t.Fatalf("merge: %s", out)
	}
	merged := w.pr(1)
	if !merged.Merged || merged.SHA == "" || w.pr(2).Merged {
		t.Fatalf("after the pass: #1 %+v, #2 merged %v", merged, w.pr(2).Merged)
	}
	var commit struct {
		Commit struct {
			Message string `json:"message"`
		} `json:"commit"`
		Parents []struct {
			SHA string `json:"sha"`
		} `json:"parents"`
	}
	w.api(giteatest.Admin, http.MethodGet, "/git/commits/"+merged.SHA, nil, &commit)
	if len(commit.Parents) != 2 || commit.Parents[1].SHA != pr.Head.SHA {
		t.Fatalf("merged %+v, not the reviewed head %s", commit.Parents, pr.Head.SHA)
	}
	for _, want := range []string{"Remediation-Id: " + id, "Approved-by: alice"} {
		if !strings.Contains(commit.Commit.Message, want) {
			t.Errorf("merge message lacks %q:\n%s", want, commit.Commit.Message)
		}
	}
	if strings.Contains(commit.Commit.Message, "Approved-by: bob") {
		t.Error("bob's approval is in the merge")
	}

	// CI reports the apply with its own token: the applied status on the merge.
	t.Setenv("TEST_GITEA_TOKEN", w.s.User(t, "ci"))
	if code, out, errs := cli(t, "applied", "--config", w.cfg, "--sha", merged.SHA); code != 0 {
		t.Fatalf("applied: %d %s %s", code, out, errs)
	}
	var statuses []struct {
		Context string `json:"context"`
		State   string `json:"status"`
		Creator struct {
			Login string `json:"login"`
		} `json:"creator"`
	}
	w.api(giteatest.Admin, http.MethodGet, "/commits/"+merged.SHA+"/statuses", nil, &statuses)
	applied := false
	for _, s := range statuses {
		applied = applied || (s.State == "success" && s.Creator.Login == "ci" && s.Context == "terraform-apply")
	}
	if !applied {
		t.Fatalf("no applied status by ci on the merge: %+v", statuses)
	}
	t.Setenv("TEST_GITEA_TOKEN", w.s.Token)
	if code, out, errs := cli(t, "audit", "verify", "--repository", w.s.CloneURL(giteatest.Admin, w.repo), "--config", w.cfg); code != 0 {
		t.Fatalf("audit verify: %d %s %s", code, out, errs)
	}
}

// TestGiteaBypassesRefused: what a person with some access does to the pull request
// after the approvals, each refused on the real Gitea: retargeting its base, closing
// and reopening it (a rejection), pushing to its branch (a person's change).
func TestGiteaBypassesRefused(t *testing.T) {
	w := giteaSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredChecks = nil })
	if code, out, errs := proposeRun(t, w.cfg, alert("api-gateway")); code != 0 {
		t.Fatalf("propose: %d %s %s", code, out, errs)
	}
	w.approve("alice", 1)
	// Retargeted: carol moves the base to a branch of hers.
	w.s.File(t, "carol", w.repo, "staging", "main", "envs/staging.auto.tfvars", "replicas = 1\n")
	w.api("carol", http.MethodPatch, "/pulls/1", map[string]any{"base": "staging"}, nil)
	if out := w.reconcile(); !strings.Contains(out, "merges into staging, not the configured base main") {
		t.Fatalf("retargeted: %s", out)
	}
	w.api("carol", http.MethodPatch, "/pulls/1", map[string]any{"base": "main"}, nil)
	// Closed by carol and reopened: a rejection, whatever happens after.
	w.api("carol", http.MethodPatch, "/pulls/1", map[string]any{"state": "closed"}, nil)
	w.api("carol", http.MethodPatch, "/pulls/1", map[string]any{"state": "open"}, nil)
	if out := w.reconcile(); !strings.Contains(out, "closed by carol") || w.pr(1).Merged {
		t.Fatalf("reopened after a close: %s", out)
	}
	if _, err := os.Stat(w.cfg); err != nil {
		t.Fatal(err)
	}
}

// TestGiteaPersonsPushNeverMerges: carol pushes a commit to the proposal's branch
// and alice approves the new head: the head is not the remediator's, so it never
// merges, and the pull request says so (a failed remediation/provenance status).
func TestGiteaPersonsPushNeverMerges(t *testing.T) {
	w := giteaSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredChecks = nil })
	if code, out, errs := proposeRun(t, w.cfg, alert("api-gateway")); code != 0 {
		t.Fatalf("propose: %d %s %s", code, out, errs)
	}
	branch := "remediation/" + decision.ID("scale-out-api", "service=api-gateway")
	head := w.s.File(t, "carol", w.repo, branch, "", "envs/extra.auto.tfvars", "replicas = 50\n")
	w.approve("alice", 1)
	out := w.reconcile()
	if w.pr(1).Merged || strings.Contains(out, "merged: ") {
		t.Fatalf("a person's push merged: %s", out)
	}
	var statuses []struct {
		Context string `json:"context"`
		State   string `json:"status"`
	}
	w.api(giteatest.Admin, http.MethodGet, "/commits/"+head+"/statuses", nil, &statuses)
	found := false
	for _, s := range statuses {
		found = found || (s.Context == "remediation/provenance" && s.State == "failure")
	}
	if !found {
		t.Fatalf("no failed remediation/provenance on the changed head: %+v (pass: %s)", statuses, out)
	}
}

// TestServeOnGiteaMergesOnItsWebhook: an Alertmanager payload into serve opens the
// pull request on the real Gitea; alice's approval makes Gitea deliver its own
// signed pull_request_approved webhook, which (the timed pass being an hour away)
// is what asks for the pass that merges.
func TestServeOnGiteaMergesOnItsWebhook(t *testing.T) {
	w := giteaSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredChecks = nil })
	data, err := os.ReadFile(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, w.cfg, strings.Replace(string(data), "  token_env: TEST_GITEA_TOKEN\n", "  token_env: TEST_GITEA_TOKEN\n  webhook_secret_env: TEST_WEBHOOK_SECRET\n", 1))
	const secret = "gitea-whsec-0123456789"
	t.Setenv("TEST_WEBHOOK_SECRET", secret)
	addr := freeAddr(t)
	stop := startServe(t, w.cfg, addr, "--reconcile-interval", "1h")
	defer stop()
	w.api(giteatest.Admin, http.MethodPost, "/hooks", map[string]any{"type": "gitea", "active": true,
		"events": []string{"pull_request", "pull_request_review_approved", "pull_request_review_rejected", "status"},
		"config": map[string]string{"url": "http://" + addr + "/v1/gitea", "content_type": "json", "secret": secret}}, nil)
	if code, body := post(t, addr, "/v1/alertmanager", "", alert("api-gateway")); code != http.StatusAccepted {
		t.Fatalf("intake: %d %s", code, body)
	}
	var prs []giteaPR
	waitForWithin(t, "the pull request", 2*time.Minute, func() bool {
		prs = nil
		_ = w.s.API(context.Background(), giteatest.Admin, http.MethodGet, "/repos/"+giteatest.Admin+"/"+w.repo+"/pulls?state=all", nil, &prs)
		return len(prs) == 1
	})
	waitForWithin(t, "the review request", time.Minute, func() bool { return len(w.pr(prs[0].Number).Reviewers) == 1 })
	time.Sleep(time.Second)
	if w.pr(prs[0].Number).Merged {
		t.Fatal("merged without a review")
	}
	w.approve("alice", prs[0].Number)
	waitForWithin(t, "the merge Gitea's webhook asked for", 2*time.Minute, func() bool { return w.pr(prs[0].Number).Merged })
}

// TestWholeLoopOnGiteaWithRealMonitoring: the loop on the real Gitea with real
// Prometheus and Alertmanager: a real alert fires, Alertmanager posts to serve, the
// pull request opens on Gitea, alice approves and serve merges at the reviewed head,
// the metric recovers, CI reports the apply as its own account, the alert resolves
// and the outcome note on the merge says verified; Gitea shows it as a status, a
// comment and a label; `audit verify` finds nothing.
func TestWholeLoopOnGiteaWithRealMonitoring(t *testing.T) {
	w := giteaSetup(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredChecks = nil
		rb.Spec.Verify = verifySpec(2*time.Minute, 0, time.Minute, latencyOK)
	})
	addr := freeAddr(t)
	g := monitored(t, w.cfg, addr, true)
	t.Cleanup(startServe(t, w.cfg, addr, "--reconcile-interval", "1s"))
	var prs []giteaPR
	waitForWithin(t, "the alert to become a pull request", 2*time.Minute, func() bool {
		prs = nil
		_ = w.s.API(context.Background(), giteatest.Admin, http.MethodGet, "/repos/"+giteatest.Admin+"/"+w.repo+"/pulls?state=all", nil, &prs)
		return len(prs) == 1
	})
	// alice reviews once asked: on Gitea a review request made after her approval
	// would take its official flag off (a "re-request review").
	waitForWithin(t, "the review request", time.Minute, func() bool { return len(w.pr(prs[0].Number).Reviewers) == 1 })
	w.approve("alice", prs[0].Number)
	for deadline := time.Now().Add(2 * time.Minute); !w.pr(prs[0].Number).Merged; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			_, out, errs := cli(t, "reconcile", "--config", w.cfg, "--dry-run")
			var timeline []struct {
				Type string `json:"type"`
				User struct {
					Login string `json:"login"`
				} `json:"user"`
				Created time.Time `json:"created_at"`
			}
			w.api(giteatest.Admin, http.MethodGet, fmt.Sprintf("/issues/%d/timeline", prs[0].Number), nil, &timeline)
			t.Fatalf("not merged; a dry pass says: %s %s\ntimeline: %+v", out, errs, timeline)
		}
	}
	merge := w.pr(prs[0].Number).SHA
	g.set(0.2)
	// CI applies the merge and says so, as its own account (forge.check_reporters).
	t.Setenv("TEST_GITEA_TOKEN", w.s.User(t, "ci"))
	if code, out, errs := cli(t, "applied", "--config", w.cfg, "--sha", merge); code != 0 {
		t.Fatalf("applied: %d %s %s", code, out, errs)
	}
	t.Setenv("TEST_GITEA_TOKEN", w.s.Token)
	mirror := w.s.CloneURL(giteatest.Admin, w.repo)
	waitForWithin(t, "the outcome note", 3*time.Minute, func() bool {
		return strings.HasPrefix(remoteNote(t, mirror, merge), "outcome: verified\n")
	})
	if code, out, errs := cli(t, "audit", "verify", "--repository", mirror, "--config", w.cfg); code != 0 {
		t.Fatalf("audit verify: %d %s %s", code, out, errs)
	}
	pr := w.pr(prs[0].Number)
	verified := false
	for _, l := range pr.Labels {
		verified = verified || l.Name == "verified"
	}
	var statuses []struct {
		Context string `json:"context"`
		State   string `json:"status"`
	}
	w.api(giteatest.Admin, http.MethodGet, "/commits/"+merge+"/statuses", nil, &statuses)
	outcome := false
	for _, s := range statuses {
		outcome = outcome || (s.Context == "remediation/outcome" && s.State == "success")
	}
	if !verified || !outcome {
		t.Fatalf("on Gitea after verification: labels %+v, statuses %+v", pr.Labels, statuses)
	}
}

// remoteNote is the outcome note on sha in the Gitea repository, "" without one.
func remoteNote(t *testing.T, url, sha string) string {
	t.Helper()
	dir := t.TempDir()
	gittest.Run(t, "", "init", "-q", "--bare", dir)
	if _, err := gittest.Output(dir, "fetch", "-q", url, "refs/notes/remediation:refs/notes/remediation"); err != nil {
		return ""
	}
	note, err := gittest.Output(dir, "notes", "--ref=remediation", "show", sha)
	if err != nil {
		return ""
	}
	return note
}
