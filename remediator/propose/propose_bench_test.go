package propose

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/local"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Repository size for BenchmarkPropose.
var benchFiles, benchCommits = 10_000, 20_000

// bigInfraRepo writes a bare repository of 10,000 files and 20,000 commits with
// git fast-import.
func bigInfraRepo(b *testing.B) string {
	b.Helper()
	repo := gittest.BareRepo(b)
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = repo
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(in)
	blob := func(s string) {
		fmt.Fprintf(w, "data %d\n%s\n", len(s), s)
	}
	files, commits := benchFiles, benchCommits
	when := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for c := 0; c < commits; c++ {
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter Infra <infra@localhost> %d +0000\n", when+int64(c))
		msg := fmt.Sprintf("change %d", c)
		fmt.Fprintf(w, "data %d\n%s\n", len(msg), msg)
		if c == 0 {
			for f := 0; f < files; f++ {
				fmt.Fprintf(w, "M 100644 inline envs/svc-%05d.auto.tfvars\n", f)
				blob(fmt.Sprintf("# svc-%05d\nreplicas = 2\n", f))
			}
		} else {
			f := c % files
			fmt.Fprintf(w, "M 100644 inline envs/svc-%05d.auto.tfvars\n", f)
			blob(fmt.Sprintf("# svc-%05d rev %d\nreplicas = 2\n", f, c))
		}
		fmt.Fprintln(w)
	}
	if err := w.Flush(); err != nil {
		b.Fatalf("%v: %s", err, stderr.String())
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("%v: %s", err, stderr.String())
	}
	return repo
}

// BenchmarkPropose is the latency of one proposal on a 10,000-file, 20,000-commit
// repository (fetch, work tree, edit, commit, push), against its peer: the git CLI
// doing the same in a clone it keeps (fetch, branch, edit, commit, push).
func BenchmarkPropose(b *testing.B) {
	repo := bigInfraRepo(b)
	rb := runbooks.NewRunbook("scale")
	rb.Spec.Risk = runbooks.RiskLow
	rb.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="A"`}, GroupBy: []string{"service"}}
	rb.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "current + 1"}}
	cat, err := runbooks.NewCatalog([]*runbooks.Runbook{rb}, nil)
	if err != nil {
		b.Fatal(err)
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	n := 0
	b.Run("remediator", func(b *testing.B) {
		infra, err := infrarepo.Open(ctx, repo, "", b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		p := &Proposer{Catalog: cat, Router: router, Infra: infra, Base: "main", AuthorName: "r", AuthorEmail: "r@localhost",
			Forge: &local.Forge{Infra: infra, Base: "main", AuthorName: "r", AuthorEmail: "r@localhost"},
			Now:   time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			n++
			a := intake.Anomaly{Labels: map[string]string{"alertname": "A", "service": fmt.Sprintf("svc-%05d", n)}, Status: "firing", Fingerprint: "f"}
			res, err := p.Propose(ctx, a, false)
			if err != nil || res.Action != decision.Opened {
				b.Fatalf("%+v %v", res, err)
			}
		}
	})
	b.Run("peer=git_cli", func(b *testing.B) {
		work := b.TempDir()
		gittest.Run(b, "", "clone", "-q", repo, work)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			n++
			svc := fmt.Sprintf("svc-%05d", n)
			gittest.Run(b, work, "fetch", "-q", "origin")
			gittest.Run(b, work, "checkout", "-q", "-B", "remediation/"+svc, "origin/main")
			p := filepath.Join(work, "envs", svc+".auto.tfvars")
			old, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(old), "replicas = 2", "replicas = 3", 1)), 0o644); err != nil {
				b.Fatal(err)
			}
			gittest.Run(b, work, "commit", "-qam", "remediation "+svc)
			gittest.Run(b, work, "push", "-q", "origin", "remediation/"+svc)
		}
	})
}
