package audit_test

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

// historyRepo builds, with git fast-import, a repository whose main has total
// commits: ordinary changes, and every 50th a remediation merged with its artifact,
// trailers and an Approved-by (2,000 of 100,000); with tamperEvery, every so many
// commits an ordinary change also edits the newest artifact (a finding).
func historyRepo(b testing.TB, total, tamperEvery int) string {
	b.Helper()
	repo := filepath.Join(b.TempDir(), "infra.git")
	gittest.Run(b, "", "init", "-q", "--bare", "--initial-branch=main", repo)
	cmd := exec.CommandContext(context.Background(), "git", "fast-import", "--quiet")
	cmd.Dir = repo
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	data := func(s string) { fmt.Fprintf(w, "data %d\n%s\n", len(s), s) }
	t := int64(1700000000)
	mark := 0
	prev := 0
	lastID := ""
	for i := 0; i < total; i++ {
		t += 60
		if i > 0 && i%50 == 0 {
			id := fmt.Sprintf("scale-%010d", i)
			mark++
			side := mark
			fmt.Fprintf(w, "commit refs/heads/remediation/%s\nmark :%d\ncommitter remediator <r@localhost> %d +0000\n", id, side, t)
			data(fmt.Sprintf("remediation(scale): replicas\n\nRemediation-Id: %s\nRunbook: scale\n", id))
			fmt.Fprintf(w, "from :%d\n", prev)
			fmt.Fprintf(w, "M 100644 inline envs/svc-%d.auto.tfvars\n", i%500)
			data(fmt.Sprintf("replicas = %d\n", i))
			fmt.Fprintf(w, "M 100644 inline .remediations/%s.yaml\n", id)
			data(fmt.Sprintf("apiVersion: remediation.gitops.dev/v1\nkind: Remediation\nid: %s\nrunbook: scale\nrunbook_version: abc\npolicy: prod\nrisk: low\nrequired_approvals: 1\ntarget: svc\nanomaly:\n  fingerprint: f\n  source: alertmanager\n  status: firing\n  starts_at: \"\"\n  value: 1\n  labels: {service: svc}\nchanges: []\nexpected_outcome: x\nplan_limits:\n  runbook_allows_destroy: false\n  policy_allows_destroy: false\nverify:\n  within: 15m\n  alert_resolved: true\nrollback: revert\nmerge:\n  allowed: true\nproposed_at: \"\"\n", id))
			mark++
			fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\ncommitter remediator <r@localhost> %d +0000\n", mark, t)
			data(fmt.Sprintf("Merge remediation %s\n\nremediation(scale): replicas\n\nRemediation-Id: %s\nRunbook: scale\nRunbook-Version: abc\nPolicy: prod\nRisk: low\nAnomaly-Fingerprint: f\nApproved-by: Alice <alice@example.com>\n", id, id))
			fmt.Fprintf(w, "from :%d\nmerge :%d\n", prev, side)
			fmt.Fprintf(w, "M 100644 inline envs/svc-%d.auto.tfvars\n", i%500)
			data(fmt.Sprintf("replicas = %d\n", i))
			fmt.Fprintf(w, "M 100644 inline .remediations/%s.yaml\n", id)
			data("x\n")
			prev = mark
			lastID = id
			continue
		}
		mark++
		fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\ncommitter dev <dev@localhost> %d +0000\n", mark, t)
		data(fmt.Sprintf("change %d\n\nSigned-off-by: dev <dev@localhost>\n", i))
		if prev > 0 {
			fmt.Fprintf(w, "from :%d\n", prev)
		}
		fmt.Fprintf(w, "M 100644 inline envs/svc-%d.auto.tfvars\n", i%500)
		data(fmt.Sprintf("replicas = %d\n", i))
		if tamperEvery > 0 && i%tamperEvery == 0 && lastID != "" {
			fmt.Fprintf(w, "M 100644 inline .remediations/%s.yaml\n", lastID)
			data(fmt.Sprintf("edited by hand %d\n", i))
		}
		prev = mark
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("fast-import: %v %s", err, stderr.String())
	}
	gittest.Run(b, repo, "repack", "-adq")
	return repo
}

// BenchmarkAudit100k rebuilds the ledger of a 100,000-commit history with the
// remediator's `audit --format json`, against its peer: `git log
// --format='%(trailers)'` over the same history.
func BenchmarkAudit100k(b *testing.B) {
	repo := historyRepo(b, 100000, 0)
	// As `git gc` leaves a repository: with a commit-graph, which both read.
	gittest.Run(b, repo, "commit-graph", "write", "--reachable")
	bin := testenv.Remediator(b)
	b.Run("remediator", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			out, err := exec.CommandContext(context.Background(), bin, "audit", "--repository", repo, "--format", "json").Output()
			if err != nil || strings.Count(string(out), `"id":`) != 1999 {
				b.Fatalf("%v: %d entries", err, strings.Count(string(out), `"id":`))
			}
		}
	})
	b.Run("peer=git_log", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			c := exec.CommandContext(context.Background(), "git", "log", "--format=%(trailers)", "main")
			c.Dir = repo
			out, err := c.Output()
			if err != nil || strings.Count(string(out), "Remediation-Id:") < 1999 {
				b.Fatalf("%v", err)
			}
		}
	})
}
