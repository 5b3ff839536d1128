package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/audit"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// mergedThroughPipeline proposes, approves and merges one remediation with the real
// commands, and returns the config, the infrastructure repository and the id.
func mergedThroughPipeline(t *testing.T, within time.Duration) (cfg, infra, id string) {
	t.Helper()
	cfg, infra, id = proposed(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) { rb.Spec.Verify.Within = runbooks.Duration(within) })
	if code, _, errs := cli(t, "approve", "--config", cfg, "--id", id, "--key", keyOf(cfg, "alice")); code != 0 {
		t.Fatal(errs)
	}
	if code, out, errs := cli(t, "reconcile", "--config", cfg); code != 0 || !strings.HasPrefix(out, "merged: ") {
		t.Fatalf("reconcile: %d %s %s", code, out, errs)
	}
	return cfg, infra, id
}

func TestAuditLedgerFromTheRealPipeline(t *testing.T) {
	cfg, infra, id := mergedThroughPipeline(t, time.Hour)
	merge := gittest.Run(t, infra, "rev-parse", "main")

	code, out, errs := cli(t, "audit", "--repository", infra, "--format", "json")
	if code != 0 {
		t.Fatalf("audit: %d %s", code, errs)
	}
	var entries []audit.Entry
	if err := json.Unmarshal([]byte(out), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("%v %s", err, out)
	}
	e := entries[0]
	if e.ID != id || e.Runbook != "scale-out-api" || e.RunbookVersion == "" || e.Policy != "production" || e.Risk != "medium" ||
		e.RequiredApprovals != 1 || strings.Join(e.Approvers, ",") != "alice@example.com" || e.Merge != merge ||
		e.MergedBy != "remediator" || e.Outcome != audit.OutcomePending || !strings.Contains(e.Anomaly, "service=api-gateway") || e.Fingerprint != "fp-api-gateway" {
		t.Fatalf("entry %+v", e)
	}
	// The outcome note, once verification writes it.
	gittest.Run(t, infra, "notes", "--ref=remediation", "add", "-F", sealedNote(t, cfg, records.KindOutcome, merge, "outcome: verified"), merge)
	_, out, _ = cli(t, "audit", "--repository", infra)
	if !strings.Contains(out, id) || !strings.Contains(out, "verified") || !strings.HasPrefix(out, "ID ") {
		t.Fatalf("table:\n%s", out)
	}
	_, out, _ = cli(t, "audit", "--repository", infra, "--format", "markdown")
	if !strings.Contains(out, "| `"+id+"` | scale-out-api |") {
		t.Fatalf("markdown:\n%s", out)
	}
	code, out, errs = cli(t, "audit", "verify", "--repository", infra, "--config", cfg)
	if code != 0 || !strings.Contains(out, "1 merged remediation(s), no findings") || errs != "" {
		t.Fatalf("verify: %d %s", code, out)
	}
	// Through a URL too: fetched with its notes.
	code, out, _ = cli(t, "audit", "--repository", "file://"+infra, "--format", "json")
	if code != 0 || !strings.Contains(out, `"outcome":"verified"`) {
		t.Fatalf("by URL: %d %s", code, out)
	}
	// --since after the merge: nothing.
	_, out, _ = cli(t, "audit", "--repository", infra, "--format", "json", "--since", time.Now().Add(time.Hour).Format(time.RFC3339))
	if strings.TrimSpace(out) != "[]" {
		t.Fatalf("since: %s", out)
	}
}

func TestAuditVerifyFlagsWhatGitCannotAccountFor(t *testing.T) {
	t.Run("no outcome after the window", func(t *testing.T) {
		cfg, infra, id := mergedThroughPipeline(t, time.Second)
		time.Sleep(1100 * time.Millisecond)
		code, out, _ := cli(t, "audit", "verify", "--repository", infra, "--config", cfg)
		if code != 1 || !strings.Contains(out, "no-outcome "+id+": merged at") {
			t.Fatalf("%d %s", code, out)
		}
	})
	t.Run("an artifact committed directly", func(t *testing.T) {
		cfg, infra, _ := mergedThroughPipeline(t, time.Hour)
		fake := &artifact.Artifact{ID: "fake-0000000000", Runbook: "scale-out-api", Policy: "production", Risk: "low"}
		data, err := fake.Encode()
		if err != nil {
			t.Fatal(err)
		}
		pushFile(t, infra, "main", artifact.Path(fake.ID), string(data), "record a remediation that never happened")
		code, out, _ := cli(t, "audit", "verify", "--repository", infra, "--config", cfg)
		if code != 1 || !strings.Contains(out, `artifact-outside-merge fake-0000000000: .remediations/fake-0000000000.yaml changed by "record a remediation that never happened"`) {
			t.Fatalf("%d %s", code, out)
		}
	})
	t.Run("an Approved-by trailer forged without an approval", func(t *testing.T) {
		cfg, infra, id := proposed(t, func(*runbooks.Runbook, *runbooks.Policy) {})
		// Merged by hand, bypassing reconcile, claiming an approval nobody gave.
		work := filepath.Join(t.TempDir(), "w")
		gittest.Run(t, "", "clone", "-q", infra, work)
		msg := gittest.Run(t, infra, "log", "-1", "--format=%B", decision.Branch(id))
		_, after, ok := strings.Cut(msg, "Remediation-Id:")
		if !ok {
			t.Fatalf("no trailers in %q", msg)
		}
		trailers := "Remediation-Id:" + after
		gittest.Run(t, work, "merge", "-q", "--no-ff", "-m", "Merge remediation "+id+"\n\n"+trailers+"\nApproved-by: Mallory <mallory@example.com>", "origin/"+decision.Branch(id))
		gittest.Run(t, work, "push", "-q", "origin", "main")
		code, out, _ := cli(t, "audit", "verify", "--repository", infra, "--config", cfg)
		if code != 1 || !strings.Contains(out, "unbacked-approval "+id+": Approved-by Mallory <mallory@example.com>: no approval recorded on the proposal head") ||
			!strings.Contains(out, "merge-not-by-remediator "+id) ||
			!strings.Contains(out, "too-few-approvals "+id+": merged with 0 valid approval(s); policy production required 1 for risk medium") {
			t.Fatalf("%d %s", code, out)
		}
	})
	t.Run("an outcome note written by hand", func(t *testing.T) {
		cfg, infra, id := mergedThroughPipeline(t, time.Hour)
		gittest.Run(t, infra, "notes", "--ref=remediation", "add", "-m", "outcome: verified", "main")
		code, out, _ := cli(t, "audit", "verify", "--repository", infra, "--config", cfg)
		if code != 1 || !strings.Contains(out, "outcome-not-by-remediator "+id+": outcome note not sealed by the remediator: unsigned") {
			t.Fatalf("%d %s", code, out)
		}
		// Sealed for another merge, copied onto this one: as worthless.
		other := sealedNote(t, cfg, records.KindOutcome, strings.Repeat("0", 40), "outcome: verified")
		gittest.Run(t, infra, "notes", "--ref=remediation", "add", "-f", "-F", other, "main")
		if code, out, _ := cli(t, "audit", "verify", "--repository", infra, "--config", cfg); code != 1 || !strings.Contains(out, "outcome-not-by-remediator "+id) {
			t.Fatalf("%d %s", code, out)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, args := range [][]string{{"audit"}, {"audit", "--repository", t.TempDir()}, {"audit", "--repository", ".", "--format", "xml"}, {"audit", "--repository", ".", "--since", "yesterday"}} {
			if code, _, errs := cli(t, args...); code != 2 || errs == "" {
				t.Errorf("%v: exit %d %s", args, code, errs)
			}
		}
	})
}

// mergeByHand merges the proposal branch into main in a clone, as a person with push
// access would, with the message given (trailers copied from the proposal), after
// change has run in the clone on the merge.
func mergeByHand(t *testing.T, infra, id, extraTrailers string, change func(work string)) {
	t.Helper()
	work := filepath.Join(t.TempDir(), "w")
	gittest.Run(t, "", "clone", "-q", infra, work)
	msg := gittest.Run(t, infra, "log", "-1", "--grep=^Remediation-Id:", "--format=%B", decision.Branch(id))
	_, after, ok := strings.Cut(msg, "Remediation-Id:")
	if !ok {
		t.Fatalf("no trailers in %q", msg)
	}
	gittest.Run(t, work, "merge", "-q", "--no-ff", "--no-commit", "origin/"+decision.Branch(id))
	if change != nil {
		change(work)
		gittest.Run(t, work, "add", "-A")
	}
	gittest.Run(t, work, "commit", "-q", "-m", "Merge remediation "+id+"\n\nRemediation-Id:"+after+"\n"+extraTrailers)
	gittest.Run(t, work, "push", "-q", "origin", "main")
}

// audit verify finds, from Git alone, each bypass made by hand on the base.
func TestAuditVerifyFlagsBypassesMadeByHand(t *testing.T) {
	cases := []struct {
		name   string
		policy func(*runbooks.Runbook, *runbooks.Policy)
		bypass func(t *testing.T, cfg, infra, id string)
		want   []string
	}{
		{"a proposal merged by hand with a real approval", nil, func(t *testing.T, cfg, infra, id string) {
			approveAs(t, cfg, id, "alice")
			mergeByHand(t, infra, id, "Approved-by: alice@example.com\n", nil)
		}, []string{"merge-not-by-remediator " + "%ID%"}},
		{"a branch made by hand, merged by hand", nil, func(t *testing.T, cfg, infra, id string) {
			pushFile(t, infra, decision.Branch(id), "envs/api-gateway.auto.tfvars", "replicas = 40\n", "more")
			approveAs(t, cfg, id, "alice")
			mergeByHand(t, infra, id, "Approved-by: alice@example.com\n", nil)
		}, []string{"changed-by-person %ID%: changed by a person: the head", "merge-not-by-remediator %ID%"}},
		{"a merge that also changes CI configuration", nil, func(t *testing.T, cfg, infra, id string) {
			approveAs(t, cfg, id, "alice")
			mergeByHand(t, infra, id, "Approved-by: alice@example.com\n", func(work string) {
				gittest.WriteFile(t, filepath.Join(work, ".github", "workflows", "ci.yml"), "on: push\n# changed in the merge\n")
				gittest.WriteFile(t, filepath.Join(work, "envs", "api-second.auto.tfvars"), "replicas = 30\n")
			})
		}, []string{"out-of-scope %ID%: the merge changed .github/workflows/ci.yml, which is protected (.github/**)",
			"out-of-scope %ID%: the merge changed envs/api-second.auto.tfvars, which its artifact does not record"}},
		{"an approval signed by a key nobody listed", nil, func(t *testing.T, cfg, infra, id string) {
			addApprovalNote(t, infra, id, signedBy(t, cfg, infra, id, "mallory", "alice@example.com"))
			mergeByHand(t, infra, id, "Approved-by: alice@example.com\n", nil)
		}, []string{"unbacked-approval %ID%: Approved-by alice@example.com: its approval on the proposal head", "a key not in",
			"too-few-approvals %ID%: merged with 0 valid approval(s)"}},
		{"a proposal merged by hand after the policy was tightened", nil, func(t *testing.T, cfg, infra, id string) {
			approveAs(t, cfg, id, "alice")
			editCatalog(t, cfg, func(_ *runbooks.Runbook, p *runbooks.Policy) ([]runbooks.Document, []string) {
				p.Spec.Approvals.Medium = 2
				return []runbooks.Document{p}, nil
			})
			mergeByHand(t, infra, id, "Approved-by: alice@example.com\n", nil)
		}, []string{"catalog-mismatch %ID%: the artifact disagrees with the catalog (required_approvals is 1 in the artifact, 2 in the catalog)"}},
		{"a team requirement met by a non-member", func(_ *runbooks.Runbook, p *runbooks.Policy) {
			p.Spec.RequiredReviewers = []string{"platform/sre"}
		}, func(t *testing.T, cfg, infra, id string) {
			setTeams(t, cfg, "platform/sre: [carol@example.com]")
			approveAs(t, cfg, id, "bob")
			mergeByHand(t, infra, id, "Approved-by: bob@example.com\n", nil)
		}, []string{"required-reviewer-missing %ID%: policy production requires an approval by platform/sre"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			policy := c.policy
			if policy == nil {
				policy = func(*runbooks.Runbook, *runbooks.Policy) {}
			}
			cfg, infra, id := proposed(t, policy)
			// Time passes between the proposal (and any catalog change) and the merge:
			// the audit reads the catalog published at the merge.
			time.Sleep(1100 * time.Millisecond)
			c.bypass(t, cfg, infra, id)
			code, out, errs := cli(t, "audit", "verify", "--repository", infra, "--config", cfg)
			if code != 1 {
				t.Fatalf("audit verify: exit %d\n%s%s", code, out, errs)
			}
			for _, w := range c.want {
				if w = strings.ReplaceAll(w, "%ID%", id); !strings.Contains(out, w) {
					t.Errorf("findings lack %q:\n%s", w, out)
				}
			}
		})
	}
}
