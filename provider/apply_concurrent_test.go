package provider

import (
	"strings"
	"sync"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// Two terraform applies in different working directories, started together against
// one catalog repository, each adding 50 runbooks: all 100 land on the branch.
func TestConcurrentApplies(t *testing.T) {
	bin := terraformCLI(t)
	repo := gittest.BareRepo(t)
	var wg sync.WaitGroup
	for _, prefix := range []string{"team-a", "team-b"} {
		dir, env := workdir(t, manyRunbooks(repo, prefix, 50))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := apply(bin, dir, env); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	out := gittest.Run(t, repo, "ls-tree", "-r", "--name-only", "main")
	files := strings.Split(out, "\n")
	if len(files) != 100 {
		t.Fatalf("%d files on main, want 100", len(files))
	}
	for _, prefix := range []string{"team-a", "team-b"} {
		if n := strings.Count(out, "catalog/runbooks/"+prefix+"-"); n != 50 {
			t.Errorf("%d runbooks of %s, want 50", n, prefix)
		}
	}
	if merges := gittest.Run(t, repo, "rev-list", "--merges", "--count", "main"); merges != "0" {
		t.Errorf("%s merge commits, want none", merges)
	}
	t.Logf("100 runbooks from two applies in %s commits", gittest.Run(t, repo, "rev-list", "--count", "main"))
}
