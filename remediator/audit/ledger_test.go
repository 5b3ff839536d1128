package audit_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/audit"
)

// The ledger is the same however it is read: from the commit objects alone, from
// Git's commit-graph (with commits newer than the graph read from their objects),
// with one tree worker or several.
func TestLedgerIsTheSameHoweverItIsRead(t *testing.T) {
	repo := historyRepo(t, 3000, 170)
	// Commits after the graph: a remediation merged, and an artifact edited by hand.
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", repo, work)
	gittest.Run(t, repo, "commit-graph", "write", "--reachable")
	gittest.Run(t, work, "checkout", "-q", "-b", "remediation/late-0000000001")
	gittest.WriteFile(t, filepath.Join(work, ".remediations", "late-0000000001.yaml"), "id: late-0000000001\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", "late")
	gittest.Run(t, work, "checkout", "-q", "main")
	gittest.Run(t, work, "merge", "-q", "--no-ff", "-m", "Merge remediation late-0000000001\n\nRemediation-Id: late-0000000001\nRunbook: scale\n", "remediation/late-0000000001")
	gittest.WriteFile(t, filepath.Join(work, ".remediations", "late-0000000001.yaml"), "id: changed\n")
	gittest.Run(t, work, "commit", "-qam", "edit the record by hand")
	gittest.Run(t, work, "push", "-q", "origin", "main")

	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	read := func(workers int) string {
		t.Helper()
		r, err := audit.Open(repo)
		if err != nil {
			t.Fatal(err)
		}
		var trees []*git.Repository
		for range workers {
			h, err := audit.Open(repo)
			if err != nil {
				t.Fatal(err)
			}
			trees = append(trees, h)
		}
		l, err := audit.Build(r, trees, "main", time.Time{}, now)
		if err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(struct {
			E []audit.Entry
			F []audit.Finding
		}{l.Entries, l.Findings})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	graph := filepath.Join(repo, "objects", "info", "commit-graph")
	if err := os.Rename(graph, graph+".off"); err != nil {
		t.Fatal(err)
	}
	want := read(0)
	if err := os.Rename(graph+".off", graph); err != nil {
		t.Fatal(err)
	}
	var l struct {
		E []audit.Entry
		F []audit.Finding
	}
	if err := json.Unmarshal([]byte(want), &l); err != nil || len(l.E) != 60 || len(l.F) < 15 {
		t.Fatalf("the history's ledger: %d entries, %d findings (%v)", len(l.E), len(l.F), err)
	}
	for _, workers := range []int{0, 1, 3} {
		if got := read(workers); got != want {
			t.Errorf("with the commit-graph and %d tree worker(s) the ledger differs", workers)
		}
	}
}
