package main

import (
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// publishV2 publishes a new version of the runbook (a different ceiling) and
// returns it.
func publishV2(t *testing.T, cfg string) string {
	t.Helper()
	var version string
	editCatalog(t, cfg, func(rb *runbooks.Runbook, _ *runbooks.Policy) ([]runbooks.Document, []string) {
		rb.Spec.Changes[0].Value = "math.least(current * 2, 30)"
		v, err := runbooks.Version(rb)
		if err != nil {
			t.Fatal(err)
		}
		version = v
		return []runbooks.Document{rb}, nil
	})
	return version
}

// "A changed runbook proposes again, under its new version" (remediator/TRUST.md):
// publish v1, propose, publish v2, one pass: v1 closed (saying why), v2 proposed.
func TestSupersededProposalMovesOn(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		cfg, infra, id := proposed(t, func(*runbooks.Runbook, *runbooks.Policy) {})
		branch := decision.Branch(id)
		v1 := proposalArtifact(t, infra, id).RunbookVersion
		v1Head := gittest.Run(t, infra, "rev-parse", branch)
		v2 := publishV2(t, cfg)

		code, out, errs := cli(t, "reconcile", "--config", cfg, "--dry-run")
		if code != 0 || !strings.HasPrefix(out, "would-close: "+branch+": superseded: runbook scale-out-api is at version "+v2) {
			t.Fatalf("dry run: %d %s %s", code, out, errs)
		}
		code, out, errs = cli(t, "reconcile", "--config", cfg)
		if code != 0 || !strings.HasPrefix(out, "closed: "+branch+": superseded: ") || !strings.Contains(out, "; proposed again: opened "+branch) {
			t.Fatalf("reconcile: %d %s %s", code, out, errs)
		}
		if got := proposalArtifact(t, infra, id).RunbookVersion; got != v2 || got == v1 {
			t.Fatalf("the branch holds version %s, want %s", got, v2)
		}
		// The v1 proposal's closing is recorded, sealed, naming its head.
		note := gittest.Run(t, infra, "notes", "--ref="+strings.TrimPrefix(records.ClosedRef, "refs/notes/"), "show", records.ClosedKey(id).String())
		if !strings.Contains(note, "head: "+v1Head) || !strings.Contains(note, "how: superseded") || !strings.Contains(note, "BEGIN SSH SIGNATURE") {
			t.Fatalf("closing record:\n%s", note)
		}
		// The new proposal waits for its approval like any other.
		reconcileWants(t, cfg, "0 of 1 approval(s)")
	})
	t.Run("github", func(t *testing.T) {
		cfg, srv, _ := githubSetup(t, func(*runbooks.Runbook, *runbooks.Policy) {})
		if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
			t.Fatal(errs)
		}
		publishV2(t, cfg)
		out := reconcileGH(t, cfg)
		if !strings.Contains(out, "closed: ") || !strings.Contains(out, "superseded: runbook scale-out-api is at version") || !strings.Contains(out, "proposed again: opened ") {
			t.Fatalf("reconcile:\n%s", out)
		}
		prs := srv.PullRequests("acme", "infra")
		if len(prs) != 2 {
			t.Fatalf("%d pull requests, want the superseded one and its successor", len(prs))
		}
		old, cur := prs[0], prs[1]
		if old.State != "closed" || old.Merged || !strings.Contains(strings.Join(old.Labels, ","), "superseded") ||
			len(old.Comments) != 1 || !strings.Contains(old.Comments[0], "Superseded: runbook scale-out-api is at version") {
			t.Fatalf("superseded pull request %+v", old)
		}
		if cur.State != "open" {
			t.Fatalf("successor %+v", cur)
		}
	})
}
