package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// proposed publishes the catalog, proposes for api-gateway on the local forge and
// returns the config, the infrastructure repository and the id.
func proposed(t *testing.T, adjust func(*runbooks.Runbook, *runbooks.Policy)) (cfg, infra, id string) {
	t.Helper()
	cfg = publishedCatalogWith(t, adjust)
	infra = infraRepo(t, cfg)
	if code, out, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("propose: %d %s %s", code, out, errs)
	}
	return cfg, infra, decision.ID("scale-out-api", "service=api-gateway")
}

func TestApproveAndReconcileMerge(t *testing.T) {
	cfg, infra, id := proposed(t, func(*runbooks.Runbook, *runbooks.Policy) {})
	branch := decision.Branch(id)
	head := gittest.Run(t, infra, "rev-parse", branch)

	// Nothing approved: it waits and says why.
	code, out, _ := cli(t, "reconcile", "--config", cfg)
	if code != 0 || !strings.Contains(out, "waiting: "+branch+": 0 of 1 approval(s)") {
		t.Fatalf("reconcile: %d %s", code, out)
	}
	// A key the allowed-signers file does not list cannot approve; nor can a
	// listed key approve as someone else.
	if code, _, errs := cli(t, "approve", "--config", cfg, "--id", id, "--key", keyOf(cfg, "mallory")); code != 2 || !strings.Contains(errs, "is not listed in") {
		t.Fatalf("mallory approved: %d %s", code, errs)
	}
	if code, _, errs := cli(t, "approve", "--config", cfg, "--id", id, "--key", keyOf(cfg, "bob"), "--principal", "alice@example.com"); code != 2 || !strings.Contains(errs, "lists this key for bob@example.com only") {
		t.Fatalf("bob approved as alice: %d %s", code, errs)
	}
	code, out, errs := cli(t, "approve", "--config", cfg, "--id", id, "--key", keyOf(cfg, "alice"))
	if code != 0 || !strings.Contains(out, "by alice@example.com: 1 approval(s) on this commit") {
		t.Fatalf("approve: %d %s %s", code, out, errs)
	}
	note := gittest.Run(t, infra, "notes", "--ref=remediation-approvals", "show", head)
	if !strings.HasPrefix(note, "approval: alice@example.com via ssh at ") || !strings.Contains(note, "-----BEGIN SSH SIGNATURE-----") {
		t.Fatalf("note: %q", note)
	}

	// A dry run says the pass would merge it, and changes nothing.
	refs := func() string { return gittest.Run(t, infra, "for-each-ref", "--format=%(refname) %(objectname)") }
	before := refs()
	code, out, errs = cli(t, "reconcile", "--config", cfg, "--dry-run")
	if code != 0 || out != "would-merge: "+branch+": passes every gate\n" {
		t.Fatalf("reconcile --dry-run: %d %q %s", code, out, errs)
	}
	if after := refs(); after != before {
		t.Fatalf("a dry run changed the repository:\n%s\n->\n%s", before, after)
	}

	code, out, errs = cli(t, "reconcile", "--config", cfg)
	if code != 0 || !strings.HasPrefix(out, "merged: "+branch) {
		t.Fatalf("reconcile: %d %s %s", code, out, errs)
	}
	if parents := gittest.Run(t, infra, "log", "-1", "--format=%P", "main"); !strings.HasSuffix(parents, " "+head) {
		t.Fatalf("the merge's second parent is not the approved head: %s", parents)
	}
	trailers := gittest.Run(t, infra, "log", "-1", "--format=%(trailers:only,unfold)", "main")
	for _, want := range []string{"Remediation-Id: " + id, "Runbook: scale-out-api", "Policy: production", "Risk: medium", "Approved-by: alice@example.com"} {
		if !strings.Contains(trailers, want) {
			t.Errorf("merge trailers lack %q:\n%s", want, trailers)
		}
	}
	if got := gittest.Run(t, infra, "show", "main:envs/api-gateway.auto.tfvars"); !strings.Contains(got, "replicas      = 8") {
		t.Fatalf("main does not hold the change:\n%s", got)
	}
	// Git itself verifies the remediator's signatures on the proposal and the merge.
	pub, err := os.ReadFile(filepath.Join(filepath.Dir(cfg), "state", "signing_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	signers := filepath.Join(t.TempDir(), "remediator_signers")
	writeFile(t, signers, "remediator@localhost "+string(pub))
	for _, c := range []string{head, "main"} {
		if out, err := gittest.Output(infra, "-c", "gpg.ssh.allowedSignersFile="+signers, "verify-commit", c); err != nil {
			t.Fatalf("git verify-commit %s: %v %s", c, err, out)
		}
	}
	// Merged: nothing left to do; the same anomaly is now in cooldown or unchanged.
	if code, out, _ := cli(t, "reconcile", "--config", cfg); code != 0 || out != "" {
		t.Fatalf("second pass: %d %q", code, out)
	}
}

func TestReconcileGates(t *testing.T) {
	t.Run("a person pushed after the review: changed by a person, never merged by the remediator", func(t *testing.T) {
		cfg, infra, id := proposed(t, func(*runbooks.Runbook, *runbooks.Policy) {})
		aliceApproves(t, cfg, id)
		pushFile(t, infra, decision.Branch(id), "envs/api-gateway.auto.tfvars", "replicas = 99\n", "sneaky")
		reconcileWants(t, cfg, "changed by a person")
		// Approving the new head changes nothing: it is not the remediator's tree.
		aliceApproves(t, cfg, id)
		reconcileWants(t, cfg, "changed by a person")
		assertNotMerged(t, infra)
	})
	t.Run("a required reviewer missing", func(t *testing.T) {
		cfg, infra, id := proposed(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredReviewers = []string{"bob"} })
		aliceApproves(t, cfg, id)
		reconcileWants(t, cfg, "required reviewer bob has not approved")
		assertNotMerged(t, infra)
	})
	t.Run("a required check: not reported, failed, then green", func(t *testing.T) {
		cfg, infra, id := proposed(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
			p.Spec.RequiredChecks = []string{"remediation/plan-check"}
			rb.Spec.Plan.AllowedAddresses = []string{"terraform_data.api[*]"}
		})
		head := gittest.Run(t, infra, "rev-parse", decision.Branch(id))
		aliceApproves(t, cfg, id)
		reconcileWants(t, cfg, "not reported yet: remediation/plan-check")
		// CI runs plan-check on the proposal's head; the result lands in the checks note.
		art := proposalArtifactFile(t, infra, id)
		if code, _, errs := cli(t, "plan-check", "--plan", planOf(t, "db"), "--artifact", art, "--comment", "--config", cfg, "--sha", head, "--key", keyOf(cfg, "ci")); code != 1 {
			t.Fatalf("plan-check of a violating plan: %d %s", code, errs)
		}
		reconcileWants(t, cfg, "failed: remediation/plan-check")
		assertNotMerged(t, infra)
		// Someone with push access writes the green report by hand: it does not count.
		work := filepath.Join(t.TempDir(), "w")
		gittest.Run(t, "", "clone", "-q", infra, work)
		gittest.Run(t, work, "fetch", "-q", "origin", "refs/notes/remediation-checks:refs/notes/remediation-checks")
		gittest.Run(t, work, "notes", "--ref=remediation-checks", "append", "-m", "success remediation/plan-check", head)
		gittest.Run(t, work, "push", "-q", "origin", "refs/notes/remediation-checks")
		reconcileWants(t, cfg, "failed: remediation/plan-check")
		assertNotMerged(t, infra)
		if code, _, errs := cli(t, "plan-check", "--plan", planOf(t, "api[0]", "api[1]"), "--artifact", art, "--comment", "--config", cfg, "--sha", head, "--key", keyOf(cfg, "ci")); code != 0 {
			t.Fatalf("plan-check: %d %s", code, errs)
		}
		note := gittest.Run(t, infra, "notes", "--ref=remediation-checks", "show", head)
		if !strings.HasPrefix(note, "failure remediation/plan-check by ci@example.com at ") || strings.Count(note, "BEGIN SSH SIGNATURE") != 2 ||
			!strings.Contains(note, "\nsuccess remediation/plan-check\nsuccess remediation/plan-check by ci@example.com at ") {
			t.Fatalf("checks note %q", note)
		}
		if code, out, _ := cli(t, "reconcile", "--config", cfg); code != 0 || !strings.HasPrefix(out, "merged: ") {
			t.Fatalf("%d %s", code, out)
		}
	})
	t.Run("a required team: members from the configuration", func(t *testing.T) {
		cfg, infra, id := proposed(t, func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.RequiredReviewers = []string{"platform/sre"} })
		aliceApproves(t, cfg, id)
		code, out, _ := cli(t, "reconcile", "--config", cfg)
		if code != 0 || !strings.Contains(out, "no approval on this commit from a member of required team platform/sre") ||
			!strings.Contains(out, "not declared under forge.teams") {
			t.Fatalf("%d %s", code, out)
		}
		setTeams(t, cfg, "platform/sre: [bob, carol@example.com]")
		if code, out, _ := cli(t, "reconcile", "--config", cfg); code != 0 || !strings.Contains(out, "member of required team platform/sre") {
			t.Fatalf("alice is not in the team: %d %s", code, out)
		}
		assertNotMerged(t, infra)
		approveAs(t, cfg, id, "carol")
		if code, out, _ := cli(t, "reconcile", "--config", cfg); code != 0 || !strings.HasPrefix(out, "merged: ") {
			t.Fatalf("%d %s", code, out)
		}
	})
	t.Run("a freeze window", func(t *testing.T) {
		cfg, infra, id := proposed(t, func(_ *runbooks.Runbook, p *runbooks.Policy) {
			p.Spec.FreezeWindows = []runbooks.Window{{Days: runbooks.Weekdays(), Start: "00:00", End: "23:59", TimeZone: "UTC"}}
		})
		aliceApproves(t, cfg, id)
		reconcileWants(t, cfg, "inside a freeze window")
		assertNotMerged(t, infra)
	})
	t.Run("the base changed the same file", func(t *testing.T) {
		cfg, infra, id := proposed(t, func(*runbooks.Runbook, *runbooks.Policy) {})
		aliceApproves(t, cfg, id)
		pushFile(t, infra, "main", "envs/api-gateway.auto.tfvars", "replicas = 5\n", "by hand")
		before := gittest.Run(t, infra, "rev-parse", "main")
		reconcileWants(t, cfg, "the base changed the same file")
		if gittest.Run(t, infra, "rev-parse", "main") != before {
			t.Fatal("merged over a conflicting change")
		}
	})
	t.Run("the base moved elsewhere: merged on top", func(t *testing.T) {
		cfg, infra, id := proposed(t, func(*runbooks.Runbook, *runbooks.Policy) {})
		aliceApproves(t, cfg, id)
		pushFile(t, infra, "main", "envs/api-second.auto.tfvars", "replicas = 5\n", "elsewhere")
		if code, out, _ := cli(t, "reconcile", "--config", cfg); code != 0 || !strings.HasPrefix(out, "merged: ") {
			t.Fatalf("%d %s", code, out)
		}
		if got := gittest.Run(t, infra, "show", "main:envs/api-second.auto.tfvars"); got != "replicas = 5" {
			t.Fatalf("the base's own change was lost: %q", got)
		}
	})
}

// pushFile commits one file on a branch of the repository as a person would: in a
// clone of their own, pushed.
func pushFile(t *testing.T, repo, branch, file, content, msg string) {
	t.Helper()
	work := filepath.Join(t.TempDir(), "w")
	gittest.Run(t, "", "clone", "-q", "-b", branch, repo, work)
	gittest.WriteFile(t, filepath.Join(work, filepath.FromSlash(file)), content)
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", msg)
	gittest.Run(t, work, "push", "-q", "origin", branch)
}

// aliceApproves approves the proposal's head as alice.
func aliceApproves(t *testing.T, cfg, id string) {
	t.Helper()
	approveAs(t, cfg, id, "alice")
}

// reconcileWants runs one pass and wants its output to say want.
func reconcileWants(t *testing.T, cfg, want string) {
	t.Helper()
	if code, out, errs := cli(t, "reconcile", "--config", cfg); code != 0 || !strings.Contains(out, want) {
		t.Fatalf("reconcile: exit %d, want %q in:\n%s%s", code, want, out, errs)
	}
}

// setTeams declares forge.teams in the configuration.
func setTeams(t *testing.T, cfg, teams string) {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(data), "allowed_signers_file: ./allowed_signers\n") {
		t.Fatal("setTeams expects the forge section last")
	}
	writeFile(t, cfg, string(data)+"  teams: {"+teams+"}\n")
}

func assertNotMerged(t *testing.T, infra string) {
	t.Helper()
	if n := gittest.Run(t, infra, "rev-list", "--count", "--merges", "main"); n != "0" {
		t.Fatalf("%s merge(s) on main", n)
	}
}

func TestCircuitBreakerSuspendsTheRunbook(t *testing.T) {
	cfg, infra, _ := proposed(t, func(_ *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.CircuitBreaker = runbooks.CircuitBreaker{Failures: 1, Window: runbooks.Duration(time.Hour), Cooldown: runbooks.Duration(time.Hour)}
	})
	// Another target still proposes: nothing has failed yet.
	if code, out, _ := proposeRun(t, cfg, alert("api-second"), "--dry-run"); code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("before: %d %s", code, out)
	}
	approveAs(t, cfg, decision.ID("scale-out-api", "service=api-gateway"), "alice")
	if code, out, _ := cli(t, "reconcile", "--config", cfg); code != 0 || !strings.HasPrefix(out, "merged: ") {
		t.Fatalf("%d %s", code, out)
	}
	// Verification recorded a failure: the breaker (1 failure) trips for an hour.
	merge := gittest.Run(t, infra, "rev-parse", "main")
	gittest.Run(t, infra, "notes", "--ref=remediation", "add", "-m", "outcome: failed\nchecked_at: "+time.Now().UTC().Format(time.RFC3339), merge)
	code, out, errs := proposeRun(t, cfg, alert("api-second"))
	if code != 0 || !strings.HasPrefix(out, "suspended: ") || !strings.Contains(out, "circuit breaker of policy production: 1 failed remediation(s) of runbook scale-out-api within 1h") {
		t.Fatalf("after: %d %s %s", code, out, errs)
	}
	if refs := gittest.Run(t, infra, "for-each-ref", "--format=%(refname)", "refs/heads/remediation/"); strings.Count(refs, "\n") != 0 {
		t.Fatalf("a suspended runbook proposed: %s", refs)
	}
}

// serve's own reconcile passes merge an approved proposal without a cron job.
func TestServeReconcilesTheLocalForge(t *testing.T) {
	cfg := publishedCatalog(t)
	infra := infraRepo(t, cfg)
	addr := freeAddr(t)
	stop := startServe(t, cfg, addr, "--reconcile-interval", "200ms")
	defer stop()
	if code, body := post(t, addr, "/v1/alertmanager", "", alert("api-gateway")); code != 202 {
		t.Fatalf("intake: %d %s", code, body)
	}
	id := decision.ID("scale-out-api", "service=api-gateway")
	waitFor(t, "the proposal", func() bool {
		_, err := gittest.Output(infra, "rev-parse", "--verify", "-q", decision.Branch(id))
		return err == nil
	})
	time.Sleep(500 * time.Millisecond) // passes run; nothing merges unapproved
	assertNotMerged(t, infra)
	waitFor(t, "the metrics to show the waiting proposal", func() bool {
		return strings.Contains(scrape(t, addr), "remediator_proposals_waiting 1\n")
	})
	aliceApproves(t, cfg, id)
	waitFor(t, "serve to merge it", func() bool {
		n, _ := gittest.Output(infra, "rev-list", "--count", "--merges", "main")
		return n == "1"
	})
	if trailers := gittest.Run(t, infra, "log", "-1", "--format=%(trailers:only,unfold)", "main"); !strings.Contains(trailers, "Approved-by: alice") {
		t.Fatalf("merge trailers:\n%s", trailers)
	}
	waitFor(t, "the metrics to count the merge", func() bool {
		m := scrape(t, addr)
		return strings.Contains(m, `remediator_lifecycle_total{action="merged",runbook="scale-out-api"} 1`+"\n") && strings.Contains(m, "remediator_proposals_waiting 0\n") &&
			!strings.Contains(m, `remediator_reconcile_passes_total{result="error"}`)
	})
}

// scrape reads serve's /metrics.
func scrape(t testing.TB, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// `status` shows what waits and why, reads only, and says the same in JSON.
func TestStatusCommand(t *testing.T) {
	cfg, infra, id := proposed(t, func(*runbooks.Runbook, *runbooks.Policy) {})
	before := gittest.Run(t, infra, "for-each-ref", "--format=%(refname) %(objectname)")
	code, out, errs := cli(t, "status", "--config", cfg)
	if code != 0 {
		t.Fatalf("status: %d %s", code, errs)
	}
	for _, want := range []string{"open proposals (1)", "waiting  " + id + "  scale-out-api  0 of 1 approval(s) on the head commit",
		"merged, being verified (0)", "runbooks (1)", "scale-out-api  version ", "0 verified in a row", "breaker closed", "queue: 0 queued, 0 dead letter(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = cli(t, "status", "--config", cfg, "--format", "json")
	if code != 0 || !strings.Contains(out, `"state": "waiting"`) || !strings.Contains(out, `"runbook": "scale-out-api"`) {
		t.Fatalf("status json: %d %s", code, out)
	}
	if after := gittest.Run(t, infra, "for-each-ref", "--format=%(refname) %(objectname)"); after != before {
		t.Fatal("status changed the repository")
	}
	if code, _, errs := cli(t, "status", "--config", cfg, "--format", "yaml"); code != 2 || !strings.Contains(errs, "--format") {
		t.Fatalf("bad format: %d %s", code, errs)
	}
}
