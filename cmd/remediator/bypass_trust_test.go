package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// The rows of the issue "an approval is one person with write access" that apply to
// the local forge: each got a change merged (or past audit verify) before the rules
// of remediator/TRUST.md named in each case; each ends with nothing merged, and the
// reason said.

// signerLine is an allowed-signers line listing who's key for principals, with options.
func signerLine(t *testing.T, cfg, who, principals, options string) string {
	t.Helper()
	pub, err := os.ReadFile(keyOf(cfg, who) + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if options != "" {
		options += " "
	}
	return principals + " " + options + strings.TrimSpace(string(pub)) + "\n"
}

// editSigners rewrites the allowed-signers file: lines whose principals start with
// drop are removed, add is appended.
func editSigners(t *testing.T, cfg, drop, add string) {
	t.Helper()
	file := filepath.Join(filepath.Dir(cfg), "allowed_signers")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if drop != "" && strings.HasPrefix(line, drop+" ") {
			continue
		}
		b.WriteString(line)
	}
	b.WriteString(add)
	writeFile(t, file, b.String())
}

// approveAsPrincipal approves with who's key under one of its principals.
func approveAsPrincipal(t *testing.T, cfg, id, who, principal string) {
	t.Helper()
	if code, _, errs := cli(t, "approve", "--config", cfg, "--id", id, "--key", keyOf(cfg, who), "--principal", principal); code != 0 {
		t.Fatalf("approve as %s (%s): %s", who, principal, errs)
	}
}

// checkReport is a check report on the proposal head signed with who's key.
//
//nolint:unparam // who is whose key signs: a case of another reporter's key names it
func checkReport(t *testing.T, cfg, infra, id, who, principal string, state forge.CheckState, at time.Time) []byte {
	t.Helper()
	k, err := signing.LoadKey(keyOf(cfg, who))
	if err != nil {
		t.Fatal(err)
	}
	r, err := records.SignCheck(k, gittest.Run(t, infra, "rev-parse", decision.Branch(id)), "remediation/plan-check", state, principal, at)
	if err != nil {
		t.Fatal(err)
	}
	return r.Entry()
}

// setChecksNote writes the checks note of the proposal head by hand.
func setChecksNote(t *testing.T, infra, id string, entries ...[]byte) {
	t.Helper()
	var note []byte
	for _, e := range entries {
		note = append(note, e...)
	}
	gittest.Run(t, infra, "notes", "--ref=remediation-checks", "add", "-f", "-m", string(note), decision.Branch(id))
}

func TestGateBypassesOfIdentityAndChecksOnTheLocalForge(t *testing.T) {
	twoApprovals := func(_ *runbooks.Runbook, p *runbooks.Policy) { p.Spec.Approvals.Medium = 2 }
	requiredCheck := func(_ *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredChecks = []string{"remediation/plan-check"}
	}
	cases := []struct {
		name   string
		policy func(*runbooks.Runbook, *runbooks.Policy)
		attack func(t *testing.T, cfg, infra, id string)
		want   string
	}{
		// A person is a key.
		{"one key listed under two principals signs two approvals", twoApprovals, func(t *testing.T, cfg, infra, id string) {
			editSigners(t, cfg, "alice@example.com", signerLine(t, cfg, "alice", "alice@example.com,alice@home.example", ""))
			approveAsPrincipal(t, cfg, id, "alice", "alice@example.com")
			approveAsPrincipal(t, cfg, id, "alice", "alice@home.example")
		}, "1 of 2 approval(s)"},
		{"one key under a wildcard principal signs as two people", twoApprovals, func(t *testing.T, cfg, infra, id string) {
			editSigners(t, cfg, "", signerLine(t, cfg, "mallory", "*@vendor.example", ""))
			addApprovalNote(t, infra, id, append(signedBy(t, cfg, infra, id, "mallory", "x@vendor.example"),
				signedBy(t, cfg, infra, id, "mallory", "y@vendor.example")...))
		}, "a pattern principal"},
		{"a required reviewer named by a local part, met by another person's email", func(_ *runbooks.Runbook, p *runbooks.Policy) {
			p.Spec.RequiredReviewers = []string{"lead"}
		}, func(t *testing.T, cfg, infra, id string) {
			editSigners(t, cfg, "", signerLine(t, cfg, "mallory", "lead@vendor.example", ""))
			approveAs(t, cfg, id, "mallory")
		}, "required reviewer lead has not approved"},
		{"a team member named by a local part, met by another person's email", func(_ *runbooks.Runbook, p *runbooks.Policy) {
			p.Spec.RequiredReviewers = []string{"platform/oncall"}
		}, func(t *testing.T, cfg, infra, id string) {
			setTeams(t, cfg, "platform/oncall: [oncall]")
			editSigners(t, cfg, "", signerLine(t, cfg, "mallory", "oncall@vendor.example", ""))
			approveAs(t, cfg, id, "mallory")
		}, "no approval on this commit from a member of required team platform/oncall"},
		// A reporter is not a reviewer.
		{"CI's key, listed for a reviewer too, approves", nil, func(t *testing.T, cfg, infra, id string) {
			editSigners(t, cfg, "ci@example.com", signerLine(t, cfg, "ci", "ci@example.com,build@example.com", ""))
			addApprovalNote(t, infra, id, signedBy(t, cfg, infra, id, "ci", "build@example.com"))
		}, "check reporter"},
		{"the remediator's own key, listed for a reviewer, approves", nil, func(t *testing.T, cfg, infra, id string) {
			_, keyFile := remediatorKeyOf(t, cfg)
			pub, err := os.ReadFile(keyFile + ".pub")
			if err != nil {
				t.Fatal(err)
			}
			editSigners(t, cfg, "", "ops@example.com "+strings.TrimSpace(string(pub))+"\n")
			k, _ := remediatorKeyOf(t, cfg)
			a, err := records.Sign(k, gittest.Run(t, infra, "rev-parse", decision.Branch(id)), "ops@example.com", records.ViaSSH, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			addApprovalNote(t, infra, id, a.Entry())
		}, "the remediator's own key"},
		// One identity, one spelling: a line the remediator cannot honour stops only itself.
		{"a cert-authority line does not stop another reviewer's approval", func(_ *runbooks.Runbook, p *runbooks.Policy) {
			p.Spec.RequiredReviewers = []string{"bob@example.com"}
		}, func(t *testing.T, cfg, infra, id string) {
			editSigners(t, cfg, "", signerLine(t, cfg, "mallory", "*@example.com", "cert-authority"))
			addApprovalNote(t, infra, id, append(signedBy(t, cfg, infra, id, "mallory", "bob@example.com"), signedBy(t, cfg, infra, id, "alice", "alice@example.com")...))
		}, "required reviewer bob@example.com has not approved"},
		// Checks fail closed.
		{"the checks note reordered so an older success follows a newer failure", requiredCheck, func(t *testing.T, cfg, infra, id string) {
			aliceApproves(t, cfg, id)
			now := time.Now()
			setChecksNote(t, infra, id,
				checkReport(t, cfg, infra, id, "ci", "ci@example.com", forge.CheckFailure, now),
				checkReport(t, cfg, infra, id, "ci", "ci@example.com", forge.CheckSuccess, now.Add(-time.Hour)))
		}, "failed: remediation/plan-check"},
		{"a report by a CI key no longer valid, dated inside its old validity", requiredCheck, func(t *testing.T, cfg, infra, id string) {
			aliceApproves(t, cfg, id)
			editSigners(t, cfg, "ci@example.com", signerLine(t, cfg, "ci", "ci@example.com", `valid-before="20200101Z"`))
			setChecksNote(t, infra, id, checkReport(t, cfg, infra, id, "ci", "ci@example.com", forge.CheckSuccess, time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC)))
		}, "not reported yet: remediation/plan-check"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			policy := c.policy
			if policy == nil {
				policy = func(*runbooks.Runbook, *runbooks.Policy) {}
			}
			cfg, infra, id := proposed(t, policy)
			before := gittest.Run(t, infra, "rev-parse", "main")
			c.attack(t, cfg, infra, id)
			code, out, errs := cli(t, "reconcile", "--config", cfg)
			if code != 0 || !strings.Contains(out, c.want) {
				t.Fatalf("reconcile: exit %d, want %q in:\n%s%s", code, c.want, out, errs)
			}
			if after := gittest.Run(t, infra, "rev-parse", "main"); after != before {
				t.Fatalf("main moved: %s", gittest.Run(t, infra, "log", "--oneline", "-3", "main"))
			}
		})
	}
}

// A runbook whose file comes from a label cannot write the CI configuration of any
// CI system, nor a dependency bot's (the rule "the diff stays in scope").
func TestGateBypassWritesCIFilesOfEveryCISystem(t *testing.T) {
	for _, file := range []string{"cloudbuild.yaml", "buildspec.yml", ".semaphore/semaphore.yml", ".cirrus.yml", "appveyor.yml",
		".harness/pipeline.yaml", "codefresh.yml", ".teamcity/settings.kts", "bamboo-specs/bamboo.yml", "renovate.json", ".renovaterc.json"} {
		t.Run(file, func(t *testing.T) {
			cfg := publishedCatalogWith(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) {
				rb.Spec.Trigger.GroupBy = []string{"service", "file"}
				rb.Spec.Changes[0].File = "{{ .labels.file }}"
			})
			infra := infraRepo(t, cfg)
			pushFile(t, infra, "main", file, "replicas = 4\n", "CI configuration")
			before := gittest.Run(t, infra, "rev-parse", "main")
			anomaly := strings.Replace(alert("api-gateway"), `"env":"prod"`, `"env":"prod","file":"`+file+`"`, 1)
			code, out, errs := proposeRun(t, cfg, anomaly)
			switch {
			case code != 0:
				if code != 2 || !strings.Contains(errs, "protected") {
					t.Fatalf("propose: exit %d %s %s", code, out, errs)
				}
			default:
				branch, _, _ := strings.Cut(strings.TrimPrefix(out, "opened: "), " ")
				id := strings.TrimPrefix(branch, decision.BranchPrefix)
				aliceApproves(t, cfg, id)
				reconcileWants(t, cfg, "is protected")
			}
			if after := gittest.Run(t, infra, "rev-parse", "main"); after != before {
				t.Fatalf("main moved: %s", gittest.Run(t, infra, "log", "--oneline", "-3", "main"))
			}
		})
	}
}

// A merge by hand hidden under a commit whose committer date is years old is still
// found by `audit verify --since` (the rule "dates are claims").
func TestAuditVerifySinceSeesThroughBackdatedCommits(t *testing.T) {
	cfg, infra, id := proposed(t, func(*runbooks.Runbook, *runbooks.Policy) {})
	approveAs(t, cfg, id, "alice")
	mergeByHand(t, infra, id, "Approved-by: alice@example.com\n", nil)
	work := filepath.Join(t.TempDir(), "w")
	gittest.Run(t, "", "clone", "-q", infra, work)
	gittest.WriteFile(t, filepath.Join(work, "README.md"), "old news\n")
	gittest.Run(t, work, "add", "-A")
	cmd := exec.Command("git", "commit", "-qm", "an old commit")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=m", "GIT_AUTHOR_EMAIL=m@localhost", "GIT_COMMITTER_NAME=m", "GIT_COMMITTER_EMAIL=m@localhost",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_COMMITTER_DATE=2019-01-01T00:00:00Z", "GIT_AUTHOR_DATE=2019-01-01T00:00:00Z")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	gittest.Run(t, work, "push", "-q", "origin", "main")
	yesterday := time.Now().Add(-24 * time.Hour).UTC().Format("2006-01-02")
	code, out, errs := cli(t, "audit", "verify", "--repository", infra, "--config", cfg, "--since", yesterday)
	if code != 1 || !strings.Contains(out, "merge-not-by-remediator "+id) || !strings.Contains(out, "date-before-parent") {
		t.Fatalf("audit verify --since %s: exit %d\n%s%s", yesterday, code, out, errs)
	}
}

// Deleting the sealed failed outcome of the newest merge earns no autonomy (the rule
// "outcomes are the remediator's word").
func TestGateBypassDeletedFailureEarnsNoAutonomy(t *testing.T) {
	cfg, infra, id := proposed(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		rb.Spec.Rollback = runbooks.RollbackNone
		p.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 2}
		p.Spec.Approvals.Medium = 0
	})
	version := proposalArtifact(t, infra, id).RunbookVersion
	for _, o := range []string{"verified", "not-applied", "verified", "failed"} {
		addOutcome(t, cfg, infra, version, o)
	}
	reconcileWants(t, cfg, "no auto-merge yet")
	before := gittest.Run(t, infra, "rev-parse", "main")
	gittest.Run(t, infra, "notes", "--ref=remediation", "remove", "main")
	reconcileWants(t, cfg, "no auto-merge yet")
	if after := gittest.Run(t, infra, "rev-parse", "main"); after != before {
		t.Fatalf("auto-merged after its failure was deleted: %s", gittest.Run(t, infra, "log", "--oneline", "-3", "main"))
	}
}

// A proposal branch a reviewer deleted is a rejection: re-pushed at the same head by
// someone else, it never merges (the rule "the pull request is the remediator's").
func TestGateBypassDeletedProposalRepushed(t *testing.T) {
	cfg, infra, id := proposed(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) { rb.Spec.Cooldown = runbooks.Duration(time.Hour) })
	aliceApproves(t, cfg, id)
	branch := decision.Branch(id)
	head := gittest.Run(t, infra, "rev-parse", branch)
	gittest.Run(t, infra, "update-ref", "-d", "refs/heads/"+branch)
	if code, out, errs := cli(t, "reconcile", "--config", cfg); code != 0 {
		t.Fatalf("reconcile: %d %s %s", code, out, errs)
	}
	gittest.Run(t, infra, "update-ref", "refs/heads/"+branch, head)
	reconcileWants(t, cfg, "rejected")
	assertNotMerged(t, infra)
	// The rejection starts the runbook's cooldown for the target: the same anomaly
	// proposes nothing new.
	gittest.Run(t, infra, "update-ref", "-d", "refs/heads/"+branch)
	if code, out, errs := proposeRun(t, cfg, alert("api-gateway")); code == 0 && strings.HasPrefix(out, "opened: ") {
		t.Fatalf("proposed again after a rejection: %s %s", out, errs)
	}
}

// `catalog validate --config` names each required reviewer or team member nobody in
// the allowed-signers file can be: a requirement no one can meet invites a key
// listed for a look-alike name.
func TestCatalogValidateWarnsOfReviewersNobodyCanBe(t *testing.T) {
	cfg := publishedCatalogWith(t, func(_ *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.RequiredReviewers = []string{"lead", "platform/oncall", "bob@example.com"}
	})
	setTeams(t, cfg, "platform/oncall: [oncall, alice@example.com]")
	code, out, errs := cli(t, "catalog", "validate", "--repository", filepath.Join(filepath.Dir(cfg), "catalog.git"), "--config", cfg)
	if code != 0 || !strings.Contains(out, "is valid") ||
		!strings.Contains(errs, "warning: policy production: required reviewer lead: no line of ") ||
		!strings.Contains(errs, "warning: policy production: team platform/oncall member oncall: no line of ") ||
		strings.Contains(errs, "alice@example.com") || strings.Contains(errs, "bob@example.com") {
		t.Fatalf("catalog validate: exit %d\n%s%s", code, out, errs)
	}
}
