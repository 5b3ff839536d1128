package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

const glProject = "acme/infra"

// gitlabWorld is a project on the GitLab test server holding the infrastructure
// files, the people (alice and carol developers, rita a reporter, gus a guest,
// mallory a developer who pushes, ci who runs the pipelines) and a remediator
// configured with forge.type gitlab (its user maintains the project).
type gitlabWorld struct {
	t   *testing.T
	s   *fakegitlab.Server
	dir string
	cfg string
}

func gitlabSetup(t *testing.T, adjust func(*runbooks.Runbook, *runbooks.Policy)) *gitlabWorld {
	t.Helper()
	return gitlabSetupWith(t, map[string]string{
		"envs/api-gateway.auto.tfvars": "# API gateway sizing\nreplicas      = 4 # raised in March\ninstance_type = \"m6i.large\"\n",
	}, adjust)
}

// gitlabSetupWith is gitlabSetup with the project's files on main given.
func gitlabSetupWith(t *testing.T, files map[string]string, adjust func(*runbooks.Runbook, *runbooks.Policy)) *gitlabWorld {
	t.Helper()
	cfg := publishedCatalogWith(t, func(rb *runbooks.Runbook, pol *runbooks.Policy) {
		pol.Spec.RequiredReviewers = []string{"alice"}
		pol.Spec.RequiredChecks = []string{"terraform-plan"}
		rb.Spec.Cooldown = runbooks.Duration(time.Hour)
		adjust(rb, pol)
	})
	s := fakegitlab.New(t)
	dir := s.CreateProject(glProject, files)
	for login, level := range map[string]int{"remediator": fakegitlab.Maintainer, "alice": fakegitlab.Developer, "carol": fakegitlab.Developer,
		"rita": fakegitlab.Reporter, "gus": fakegitlab.Guest, "mallory": fakegitlab.Developer, "ci": fakegitlab.Developer} {
		s.AddUser(login, login+"-glpat")
		s.SetMember(glProject, login, level)
	}
	t.Setenv("TEST_GITLAB_TOKEN", "remediator-glpat")
	writeFile(t, cfg, fmt.Sprintf(`catalog:
  repository: ./catalog.git
infrastructure:
  repository: %s/%s.git
forge:
  type: gitlab
  project: %s
  base_url: %s
  token_env: TEST_GITLAB_TOKEN
  check_reporters: [ci]
state_dir: ./state
`, s.URL, glProject, glProject, s.URL))
	return &gitlabWorld{t: t, s: s, dir: dir, cfg: cfg}
}

func (w *gitlabWorld) mr(iid int) fakegitlab.MR {
	w.t.Helper()
	mrs := w.s.MergeRequests(glProject)
	if len(mrs) < iid {
		w.t.Fatalf("no merge request !%d (%d in all)", iid, len(mrs))
	}
	return mrs[iid-1]
}

// approve submits login's approval as a person does once the merge request is
// there: not within the millisecond GitLab's API dates its last version to (a tie
// binds the approval to no head: it fails closed).
func (w *gitlabWorld) approve(login string, iid int64) {
	w.t.Helper()
	time.Sleep(5 * time.Millisecond)
	if err := w.s.Approve(glProject, iid, login); err != nil {
		w.t.Fatalf("%s approves !%d: %v", login, iid, err)
	}
}

// repush has login push the branch away from its head and back: the head is the
// remediator's commit again, and GitLab's newest version is dated now.
func (w *gitlabWorld) repush(login, branch string) {
	w.t.Helper()
	head := gittest.Run(w.t, w.dir, "rev-parse", "refs/heads/"+branch)
	w.s.Push(glProject, login, branch, gittest.Run(w.t, w.dir, "rev-parse", "refs/heads/main"))
	w.s.Push(glProject, login, branch, head)
}

// TestGitLabLoop: the whole loop on the GitLab test server, with the attacks a
// forge with approvals invites refused on the way: an alert proposes a merge request
// (description, labels, reviewer); a merge request mallory forges with the marker
// names nothing; a reporter's approval (GitLab refuses it) and an approval GitLab
// dated before the branch's last push count for nothing; a status by someone who
// is not a reporter is no check; alice's approval after the last push and ci's
// green pipeline merge it at the reviewed head with the trailers, squash off;
// `applied` sets the applied status as CI; `audit verify` finds nothing.
func TestGitLabLoop(t *testing.T) {
	w := gitlabSetup(t, func(*runbooks.Runbook, *runbooks.Policy) {})
	id := decision.ID("scale-out-api", "service=api-gateway")
	branch := "remediation/" + id
	if code, out, errs := proposeRun(t, w.cfg, alert("api-gateway")); code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("propose: %d %s %s", code, out, errs)
	}
	mr := w.mr(1)
	if !strings.Contains(mr.Description, "<!-- remediation:proposal id="+id) || strings.Join(mr.Labels, ",") != "remediation,risk:medium" ||
		!slices.Equal(mr.Reviewers, []string{"alice"}) || mr.Author != "remediator" || mr.Source != branch || mr.Target != "main" {
		t.Fatalf("merge request %+v", mr)
	}
	if strings.Contains(mr.Description, "remediator-glpat") {
		t.Fatal("the token leaked into the merge request")
	}
	if out := reconcileGH(t, w.cfg); !strings.Contains(out, "0 of 1 approval(s)") {
		t.Fatalf("no approval yet: %s", out)
	}

	// A forged merge request: mallory opens one from her own branch with the
	// remediator's marker, and carol approves it. The pass looks at nothing of it.
	work := t.TempDir()
	gittest.Run(t, work, "clone", "-q", w.dir, ".")
	gittest.WriteFile(t, filepath.Join(work, "envs/forged.auto.tfvars"), "replicas = 99\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-q", "-m", "forged")
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:refs/heads/forged-staged")
	forgedHead := gittest.Run(t, work, "rev-parse", "HEAD")
	w.s.Push(glProject, "mallory", "remediation/forged", forgedHead)
	w.s.OpenAs(glProject, "mallory", "remediation/forged", "main", "forged", strings.ReplaceAll(mr.Description, id, "forged"))
	w.approve("carol", 2)
	w.s.Pipeline(glProject, "remediation/forged", forgedHead, "ci", map[string]string{"terraform-plan": "success"})
	if out := reconcileGH(t, w.cfg); strings.Contains(out, "forged") || w.mr(2).State == "merged" {
		t.Fatalf("the forged merge request was taken as a proposal: %s", out)
	}

	// rita reports only: GitLab refuses her approval.
	if err := w.s.Approve(glProject, 1, "rita"); err == nil {
		t.Fatal("GitLab let a reporter approve")
	}
	// alice approves, then mallory pushes the branch away and back: the head is the
	// remediator's again, but alice approved before its last push.
	if err := w.s.Approve(glProject, 1, "alice"); err != nil {
		t.Fatal(err)
	}
	w.repush("mallory", branch)
	w.s.Pipeline(glProject, branch, mr.SHA, "ci", map[string]string{"terraform-plan": "success"})
	if out := reconcileGH(t, w.cfg); !strings.Contains(out, "0 of 1 approval(s)") || w.mr(1).State == "merged" {
		t.Fatalf("an approval before the last push counted: %s", out)
	}
	// carol's status is no report; alice approves again after the last push.
	w.s.Unapprove(glProject, 1, "alice")
	if err := w.s.Approve(glProject, 1, "alice"); err != nil {
		t.Fatal(err)
	}
	w.s.SetStatus(glProject, mr.SHA, "terraform-plan", "failed", "ci")
	w.s.SetStatus(glProject, mr.SHA, "terraform-plan", "success", "carol")
	if out := reconcileGH(t, w.cfg); !strings.Contains(out, "required checks not green") {
		t.Fatalf("a non-reporter's status counted: %s", out)
	}
	w.s.Pipeline(glProject, branch, mr.SHA, "ci", map[string]string{"terraform-plan": "success"})
	out := reconcileGH(t, w.cfg)
	if !strings.Contains(out, "merged: ") {
		t.Fatalf("merge: %s", out)
	}
	merged := w.mr(1)
	if merged.State != "merged" || w.mr(2).State == "merged" {
		t.Fatalf("after the pass: !1 %+v, !2 %s", merged, w.mr(2).State)
	}
	if p2 := gittest.Run(t, w.dir, "rev-parse", merged.MergeSHA+"^2"); p2 != mr.SHA {
		t.Fatalf("merged %s, not the reviewed head %s", p2, mr.SHA)
	}
	msg, squashed := w.s.MergeMessage(glProject, 1)
	for _, want := range []string{"Remediation-Id: " + id, "Approved-by: alice"} {
		if !strings.Contains(msg, want) {
			t.Errorf("merge message lacks %q:\n%s", want, msg)
		}
	}
	if squashed || strings.Contains(msg, "mallory") || strings.Contains(msg, "rita") {
		t.Errorf("squashed %v, message:\n%s", squashed, msg)
	}

	// CI reports the apply with its own token: the applied status on the merge.
	t.Setenv("TEST_GITLAB_TOKEN", "ci-glpat")
	if code, out, errs := cli(t, "applied", "--config", w.cfg, "--sha", merged.MergeSHA); code != 0 {
		t.Fatalf("applied: %d %s %s", code, out, errs)
	}
	if st := w.s.Statuses(glProject, merged.MergeSHA); !slices.Contains(st, "terraform-apply=success by ci") {
		t.Fatalf("no applied status by ci on the merge: %v", st)
	}
	t.Setenv("TEST_GITLAB_TOKEN", "remediator-glpat")
	if code, out, errs := cli(t, "audit", "verify", "--repository", w.dir, "--config", w.cfg); code != 0 {
		t.Fatalf("audit verify: %d %s %s", code, out, errs)
	}
}

// TestGitLabBypassesRefused: what a person with developer access does to the merge
// request after the approvals, each refused: retargeting it, closing and reopening
// it (a rejection), pushing a commit of their own to its branch (a person's change,
// which never merges and says so).
func TestGitLabBypassesRefused(t *testing.T) {
	w := gitlabSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredChecks = nil })
	if code, out, errs := proposeRun(t, w.cfg, alert("api-gateway")); code != 0 {
		t.Fatalf("propose: %d %s %s", code, out, errs)
	}
	branch := "remediation/" + decision.ID("scale-out-api", "service=api-gateway")
	if err := w.s.Approve(glProject, 1, "alice"); err != nil {
		t.Fatal(err)
	}
	// Retargeted: carol moves the target to a branch of hers.
	w.s.Push(glProject, "carol", "staging", gittest.Run(t, w.dir, "rev-parse", "main"))
	w.s.Retarget(glProject, 1, "carol", "staging")
	if out := reconcileGH(t, w.cfg); !strings.Contains(out, "merges into staging, not the configured base main") {
		t.Fatalf("retargeted: %s", out)
	}
	w.s.Retarget(glProject, 1, "carol", "main")
	// Closed by carol and reopened: a rejection, whatever happens after.
	w.s.CloseAs(glProject, 1, "carol")
	w.s.Reopen(glProject, 1, "carol")
	if out := reconcileGH(t, w.cfg); !strings.Contains(out, "closed by carol") || w.mr(1).State == "merged" {
		t.Fatalf("reopened after a close: %s", out)
	}
	// A person's push on a second proposal: never merged, and the merge request says so.
	w2 := gitlabSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredChecks = nil })
	if code, out, errs := proposeRun(t, w2.cfg, alert("api-gateway")); code != 0 {
		t.Fatalf("propose: %d %s %s", code, out, errs)
	}
	work := t.TempDir()
	gittest.Run(t, work, "clone", "-q", "-b", branch, w2.dir, ".")
	gittest.WriteFile(t, filepath.Join(work, "envs/extra.auto.tfvars"), "replicas = 50\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-q", "-m", "more")
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:refs/heads/extra-staged")
	head := gittest.Run(t, work, "rev-parse", "HEAD")
	w2.s.Push(glProject, "carol", branch, head)
	if err := w2.s.Approve(glProject, 1, "alice"); err != nil {
		t.Fatal(err)
	}
	if out := reconcileGH(t, w2.cfg); w2.mr(1).State == "merged" || strings.Contains(out, "merged: ") {
		t.Fatalf("a person's push merged: %s", out)
	}
	if st := w2.s.Statuses(glProject, head); !slices.Contains(st, "remediation/provenance=failed by remediator") {
		t.Fatalf("statuses on the person's head: %v", st)
	}
	if _, err := os.Stat(w.cfg); err != nil {
		t.Fatal(err)
	}
}

// gitlabServe adds the webhook secret to the configuration, starts serve (with
// real monitoring when asked, whose Alertmanager posts to it) and points the
// project's webhook at POST /v1/gitlab.
func (w *gitlabWorld) serve(interval string, monitor bool) (*gauge, string) {
	w.t.Helper()
	const secret = "gitlab-whsec-0123456789"
	w.t.Setenv("TEST_WEBHOOK_SECRET", secret)
	data, err := os.ReadFile(w.cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	writeFile(w.t, w.cfg, strings.Replace(string(data), "  token_env: TEST_GITLAB_TOKEN\n", "  token_env: TEST_GITLAB_TOKEN\n  webhook_secret_env: TEST_WEBHOOK_SECRET\n", 1))
	addr := freeAddr(w.t)
	var g *gauge
	if monitor {
		g = monitored(w.t, w.cfg, addr, true)
	}
	w.s.Hook(glProject, "http://"+addr+"/v1/gitlab", secret)
	w.t.Cleanup(startServe(w.t, w.cfg, addr, "--reconcile-interval", interval))
	return g, addr
}

// TestServeOnGitLabMergesOnItsWebhook: with no timed pass, GitLab's own deliveries
// drive the merge: the approval (a merge request event) finds the pipeline not yet
// green, and the pipeline event merges it. A delivery with a wrong token does
// nothing.
func TestServeOnGitLabMergesOnItsWebhook(t *testing.T) {
	w := gitlabSetup(t, func(*runbooks.Runbook, *runbooks.Policy) {})
	_, addr := w.serve("1h", false)
	if code, body := post(t, addr, "/v1/alertmanager", "", alert("api-gateway")); code != 202 {
		t.Fatalf("intake: %d %s", code, body)
	}
	waitForWithin(t, "the merge request", 2*time.Minute, func() bool { return len(w.s.MergeRequests(glProject)) == 1 })
	w.approve("alice", 1)
	time.Sleep(2 * time.Second)
	if w.mr(1).State == "merged" {
		t.Fatal("merged before the pipeline was green")
	}
	w.s.Pipeline(glProject, w.mr(1).Source, w.mr(1).SHA, "ci", map[string]string{"terraform-plan": "success"})
	for deadline := time.Now().Add(2 * time.Minute); w.mr(1).State != "merged"; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			_, out, errs := cli(t, "reconcile", "--config", w.cfg, "--dry-run")
			var events []string
			for _, d := range w.s.Deliveries() {
				events = append(events, fmt.Sprintf("%s %d", d.Event, d.Status))
			}
			t.Fatalf("not merged after the pipeline event; deliveries %v; a dry pass says: %s %s\n%s", events, out, errs, w.s.Debug(glProject, 1))
		}
	}
	refused := false
	for _, d := range w.s.Deliveries() {
		refused = refused || d.Status != 202
	}
	if refused {
		t.Fatalf("a delivery was refused: %+v", w.s.Deliveries())
	}
}

// TestWholeLoopOnGitLabWithRealMonitoring: the loop on the GitLab test server with
// real Prometheus and Alertmanager: a real alert fires, Alertmanager posts to serve,
// the merge request opens, alice approves, ci's pipeline goes green and serve merges
// at the reviewed head; the metric recovers, CI reports the apply as its own user,
// the alert resolves and the outcome note on the merge says verified; GitLab shows
// it as a status, a note and a label; `audit verify` finds nothing.
func TestWholeLoopOnGitLabWithRealMonitoring(t *testing.T) {
	w := gitlabSetup(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) {
		rb.Spec.Verify = verifySpec(2*time.Minute, 0, time.Minute, latencyOK)
	})
	g, _ := w.serve("1s", true)
	waitForWithin(t, "the alert to become a merge request", 2*time.Minute, func() bool { return len(w.s.MergeRequests(glProject)) == 1 })
	w.approve("alice", 1)
	w.s.Pipeline(glProject, w.mr(1).Source, w.mr(1).SHA, "ci", map[string]string{"terraform-plan": "success"})
	waitForWithin(t, "the merge", 2*time.Minute, func() bool { return w.mr(1).State == "merged" })
	merge := w.mr(1).MergeSHA
	if got := gittest.Run(t, w.dir, "rev-parse", merge+"^2"); got != w.mr(1).SHA {
		t.Fatalf("merged %s, not the reviewed head %s", got, w.mr(1).SHA)
	}
	g.set(0.2)
	t.Setenv("TEST_GITLAB_TOKEN", "ci-glpat")
	if code, out, errs := cli(t, "applied", "--config", w.cfg, "--sha", merge); code != 0 {
		t.Fatalf("applied: %d %s %s", code, out, errs)
	}
	t.Setenv("TEST_GITLAB_TOKEN", "remediator-glpat")
	waitForWithin(t, "the outcome note", 3*time.Minute, func() bool {
		note, err := gittest.Output(w.dir, "notes", "--ref=remediation", "show", merge)
		return err == nil && strings.HasPrefix(note, "outcome: verified\n")
	})
	if code, out, errs := cli(t, "audit", "verify", "--repository", w.dir, "--config", w.cfg); code != 0 {
		t.Fatalf("audit verify: %d %s %s", code, out, errs)
	}
	waitForWithin(t, "the outcome on GitLab", time.Minute, func() bool {
		mr := w.mr(1)
		return slices.Contains(mr.Labels, "verified") && slices.Contains(w.s.Statuses(glProject, merge), "remediation/outcome=success by remediator") &&
			len(mr.Notes) > 0 && strings.Contains(mr.Notes[len(mr.Notes)-1], "**Verified.**")
	})
}

// TestGitLabApprovalOfAReporterNeverCounts: GitLab keeps an approval when its giver
// loses access; alice approves as a developer and is made a reporter, then a guest:
// the pass reads her level anew and counts nothing, and merges once she is a
// developer again.
func TestGitLabApprovalOfAReporterNeverCounts(t *testing.T) {
	w := gitlabSetup(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredChecks = nil })
	if code, out, errs := proposeRun(t, w.cfg, alert("api-gateway")); code != 0 {
		t.Fatalf("propose: %d %s %s", code, out, errs)
	}
	w.approve("alice", 1)
	for _, level := range []int{fakegitlab.Reporter, fakegitlab.Guest} {
		w.s.SetMember(glProject, "alice", level)
		if out := reconcileGH(t, w.cfg); !strings.Contains(out, "0 of 1 approval(s)") || w.mr(1).State == "merged" {
			t.Fatalf("an approval by a user of level %d counted: %s", level, out)
		}
	}
	w.s.SetMember(glProject, "alice", fakegitlab.Developer)
	if out := reconcileGH(t, w.cfg); !strings.Contains(out, "merged: ") {
		t.Fatalf("alice as a developer again: %s", out)
	}
}
