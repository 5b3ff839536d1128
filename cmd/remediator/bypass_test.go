package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// The gate-bypass suite: what someone with push access to the infrastructure
// repository (but not the remediator's key, nor a reviewer's) can try, on the local
// forge. Every case ends with nothing merged and the reason said.

// editCatalog changes the published catalog after the proposal: each returned
// document is written, each name in drop (kind/name) deleted.
func editCatalog(t *testing.T, cfg string, edit func(rb *runbooks.Runbook, pol *runbooks.Policy) (put []runbooks.Document, drop []string)) {
	t.Helper()
	ctx := context.Background()
	store, err := catalogstore.Open(ctx, catalogstore.Options{Repository: filepath.Join(filepath.Dir(cfg), "catalog.git")})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := store.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rb, _, err := snap.Get(runbooks.KindRunbook, "scale-out-api")
	if err != nil {
		t.Fatal(err)
	}
	pol, _, err := snap.Get(runbooks.KindPolicy, "production")
	if err != nil {
		t.Fatal(err)
	}
	put, drop := edit(rb.(*runbooks.Runbook), pol.(*runbooks.Policy))
	for _, d := range put {
		if _, err := store.Put(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, kn := range drop {
		kind, name, _ := strings.Cut(kn, "/")
		if _, err := store.Delete(ctx, kind, name); err != nil {
			t.Fatal(err)
		}
	}
}

// forgeBranch pushes a branch remediation/<id> as a person would make one by hand:
// an artifact of their own (copied from a real proposal and edited), a change, and
// the trailers of a proposal commit.
func forgeBranch(t *testing.T, infra, id string, edit func(a *artifact.Artifact), files map[string]string) {
	t.Helper()
	made := proposalArtifact(t, infra, id)
	edit(made)
	data, err := made.Encode()
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(t.TempDir(), "w")
	gittest.Run(t, "", "clone", "-q", infra, work)
	gittest.Run(t, work, "checkout", "-q", "-b", decision.Branch(made.ID), "origin/main")
	files[artifact.Path(made.ID)] = string(data)
	for f, c := range files {
		gittest.WriteFile(t, filepath.Join(work, filepath.FromSlash(f)), c)
	}
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", made.CommitMessage())
	gittest.Run(t, work, "push", "-q", "-f", "origin", decision.Branch(made.ID))
}

// proposalArtifact reads the artifact of the proposal branch of id.
func proposalArtifact(t *testing.T, infra, id string) *artifact.Artifact {
	t.Helper()
	data := gittest.Run(t, infra, "show", decision.Branch(id)+":"+artifact.Path(id))
	a, err := artifact.Decode([]byte(data + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// editBranchArtifact pushes a commit on the proposal branch that edits its artifact.
func editBranchArtifact(t *testing.T, infra, id string, edit func(a *artifact.Artifact)) {
	t.Helper()
	a := proposalArtifact(t, infra, id)
	edit(a)
	data, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	pushFile(t, infra, decision.Branch(id), artifact.Path(id), string(data), "adjust the record")
}

// addApprovalNote writes an approvals note entry by hand on the branch head.
func addApprovalNote(t *testing.T, infra, id string, entry []byte) {
	t.Helper()
	gittest.Run(t, infra, "notes", "--ref=remediation-approvals", "add", "-f", "-m", string(entry), decision.Branch(id))
}

// signedBy makes an approval entry of the branch head signed with who's key.
func signedBy(t *testing.T, cfg, infra, id, who, principal string) []byte {
	t.Helper()
	k, err := signing.LoadKey(keyOf(cfg, who))
	if err != nil {
		t.Fatal(err)
	}
	head := gittest.Run(t, infra, "rev-parse", decision.Branch(id))
	a, err := records.Sign(k, head, principal, records.ViaSSH, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return a.Entry()
}

func TestGateBypassesOnTheLocalForge(t *testing.T) {
	autoMerge := func(_ *runbooks.Runbook, p *runbooks.Policy) {}
	cases := []struct {
		name   string
		policy func(*runbooks.Runbook, *runbooks.Policy)
		// attack does what the attacker does after the proposal exists.
		attack func(t *testing.T, cfg, infra, id string)
		want   string
	}{
		{"a forged branch with a hand-made artifact claiming auto-merge", autoMerge, func(t *testing.T, cfg, infra, id string) {
			forged := decision.ID("scale-out-api", "service=api-forged")
			// Made from the real proposal's record, renamed, claiming no approvals needed.
			forgeBranch(t, infra, id, func(a *artifact.Artifact) {
				a.ID, a.RequiredApprovals, a.Risk, a.Policy = forged, 0, "low", "staging"
				a.Anomaly.Labels["service"] = "api-forged"
			}, map[string]string{"envs/api-forged.auto.tfvars": "replicas = 40\n"})
		}, "changed by a person: the head"},
		{"the artifact downgraded to low risk, 0 approvals", nil, func(t *testing.T, cfg, infra, id string) {
			editBranchArtifact(t, infra, id, func(a *artifact.Artifact) { a.Risk, a.RequiredApprovals = "low", 0 })
		}, "changed by a person"},
		{"the artifact's policy renamed to one the catalog lacks", nil, func(t *testing.T, cfg, infra, id string) {
			editBranchArtifact(t, infra, id, func(a *artifact.Artifact) { a.Policy = "no-such-policy" })
		}, "changed by a person"},
		{"the artifact's plan limits widened", nil, func(t *testing.T, cfg, infra, id string) {
			editBranchArtifact(t, infra, id, func(a *artifact.Artifact) {
				a.Limits.AllowedAddresses, a.Limits.RunbookAllowsDestroy, a.Limits.PolicyAllowsDestroy = []string{"**"}, true, true
			})
		}, "changed by a person"},
		{"an extra commit touching a protected path", nil, func(t *testing.T, cfg, infra, id string) {
			aliceApproves(t, cfg, id)
			pushFile(t, infra, decision.Branch(id), ".github/workflows/ci.yml", "on: push\njobs: {steal: {runs-on: x, steps: [{run: env}]}}\n", "ci tweak")
			aliceApproves(t, cfg, id)
		}, "changed by a person"},
		{"an extra commit touching a file the runbook does not", nil, func(t *testing.T, cfg, infra, id string) {
			pushFile(t, infra, decision.Branch(id), "envs/api-second.auto.tfvars", "replicas = 50\n", "while we are at it")
			aliceApproves(t, cfg, id)
		}, "changed by a person"},
		{"the pusher approving their own push", nil, func(t *testing.T, cfg, infra, id string) {
			pushFile(t, infra, decision.Branch(id), "envs/api-gateway.auto.tfvars", "replicas = 9\n", "alice's own tweak")
			aliceApproves(t, cfg, id)
		}, "changed by a person"},
		{"an unsigned approval written by hand", nil, func(t *testing.T, cfg, infra, id string) {
			addApprovalNote(t, infra, id, []byte("approval: alice@example.com via ssh at 2026-11-25T00:00:00Z\n"))
		}, "alice@example.com: unsigned approval"},
		{"the old unsigned format written by hand", nil, func(t *testing.T, cfg, infra, id string) {
			addApprovalNote(t, infra, id, []byte("approved: Alice <alice@example.com> 2026-11-25T00:00:00Z\n"))
		}, "unreadable entry"},
		{"an approval signed for another commit, copied onto the head", nil, func(t *testing.T, cfg, infra, id string) {
			k, err := signing.LoadKey(keyOf(cfg, "alice"))
			if err != nil {
				t.Fatal(err)
			}
			a, err := records.Sign(k, gittest.Run(t, infra, "rev-parse", "main"), "alice@example.com", records.ViaSSH, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			addApprovalNote(t, infra, id, a.Entry())
		}, "signature does not verify"},
		{"an approval by a key the allowed-signers file does not list", nil, func(t *testing.T, cfg, infra, id string) {
			addApprovalNote(t, infra, id, signedBy(t, cfg, infra, id, "mallory", "alice@example.com"))
		}, "a key not in"},
		{"an approval in someone else's name with a listed key", nil, func(t *testing.T, cfg, infra, id string) {
			addApprovalNote(t, infra, id, signedBy(t, cfg, infra, id, "bob", "alice@example.com"))
		}, "listed for bob@example.com, not alice@example.com"},
		{"an approval signed by a non-member for a team requirement", func(_ *runbooks.Runbook, p *runbooks.Policy) {
			p.Spec.RequiredReviewers = []string{"platform/sre"}
		}, func(t *testing.T, cfg, infra, id string) {
			setTeams(t, cfg, "platform/sre: [carol@example.com]")
			approveAs(t, cfg, id, "bob")
		}, "no approval on this commit from a member of required team platform/sre"},
		{"the runbook disabled after the proposal", nil, func(t *testing.T, cfg, infra, id string) {
			aliceApproves(t, cfg, id)
			editCatalog(t, cfg, func(rb *runbooks.Runbook, _ *runbooks.Policy) ([]runbooks.Document, []string) {
				rb.Spec.Enabled = false
				return []runbooks.Document{rb}, nil
			})
		}, "runbook scale-out-api is disabled in the catalog"},
		{"the runbook deleted after the proposal", nil, func(t *testing.T, cfg, infra, id string) {
			aliceApproves(t, cfg, id)
			editCatalog(t, cfg, func(*runbooks.Runbook, *runbooks.Policy) ([]runbooks.Document, []string) {
				return nil, []string{runbooks.KindRunbook + "/scale-out-api"}
			})
		}, "runbook scale-out-api is no longer in the catalog"},
		{"the policy tightened after the proposal: the tighter rule wins", nil, func(t *testing.T, cfg, infra, id string) {
			aliceApproves(t, cfg, id)
			editCatalog(t, cfg, func(_ *runbooks.Runbook, p *runbooks.Policy) ([]runbooks.Document, []string) {
				p.Spec.Approvals.Medium = 2
				return []runbooks.Document{p}, nil
			})
		}, "required_approvals is 1 in the artifact, 2 in the catalog"},
		{"the policy protects the runbook's file after the proposal", nil, func(t *testing.T, cfg, infra, id string) {
			aliceApproves(t, cfg, id)
			editCatalog(t, cfg, func(_ *runbooks.Runbook, p *runbooks.Policy) ([]runbooks.Document, []string) {
				p.Spec.ProtectedPaths = []string{"envs/api-gateway.*"}
				return []runbooks.Document{p}, nil
			})
		}, "envs/api-gateway.auto.tfvars is protected (envs/api-gateway.*)"},
		{"the recorded runbook version is gone from the catalog", nil, func(t *testing.T, cfg, infra, id string) {
			aliceApproves(t, cfg, id)
			editCatalog(t, cfg, func(rb *runbooks.Runbook, _ *runbooks.Policy) ([]runbooks.Document, []string) {
				rb.Spec.Changes[0].Value = "math.least(current * 3, 20)"
				return []runbooks.Document{rb}, nil
			})
		}, "which the catalog no longer holds"},
		{"the remediator's own commit of another proposal pushed onto this branch", nil, func(t *testing.T, cfg, infra, id string) {
			if code, out, errs := proposeRun(t, cfg, alert("api-second")); code != 0 {
				t.Fatalf("%s %s", out, errs)
			}
			other := decision.ID("scale-out-api", "service=api-second")
			approveAs(t, cfg, other, "alice")
			// The approved commit of the other proposal, under this proposal's name, with
			// this proposal's artifact added by hand on top: not the remediator's tree.
			gittest.Run(t, infra, "update-ref", "refs/heads/"+decision.Branch(id), decision.Branch(other))
			gittest.Run(t, infra, "update-ref", "-d", "refs/heads/"+decision.Branch(other))
			pushFile(t, infra, decision.Branch(id), artifact.Path(id), gittest.Run(t, infra, "show", "main~0:envs/api-second.auto.tfvars"), "claim it")
		}, "changed by a person"},
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

// A catalog change never stops the rollback of a merged remediation; a forged
// rollback branch is still a person's.
func TestForgedRollbackBranchIsAPersons(t *testing.T) {
	cfg, infra, id := mergedThroughPipeline(t, time.Hour)
	pushFile(t, infra, "main", "README.md", "x\n", "unrelated")
	work := filepath.Join(t.TempDir(), "w")
	gittest.Run(t, "", "clone", "-q", infra, work)
	gittest.Run(t, work, "checkout", "-q", "-b", decision.Branch(id+"-rollback"))
	a := proposalArtifact(t, infra, id)
	a.ID, a.RollbackOf = id+"-rollback", id
	data, _ := a.Encode()
	gittest.WriteFile(t, filepath.Join(work, artifact.Path(a.ID)), string(data))
	gittest.WriteFile(t, filepath.Join(work, ".github", "workflows", "ci.yml"), "on: push\n# rolled back\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", a.CommitMessage())
	gittest.Run(t, work, "push", "-q", "origin", decision.Branch(a.ID))
	aliceApproves(t, cfg, a.ID)
	reconcileWants(t, cfg, "changed by a person")
	if _, err := os.Stat(filepath.Join(work, ".git")); err != nil {
		t.Fatal(err)
	}
}
