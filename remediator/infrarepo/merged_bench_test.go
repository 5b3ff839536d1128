package infrarepo_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

// BenchmarkIsMergedOpenProposal is the question every pass asks of each open
// proposal on a base of 5,000 commits: is its head merged (no)? The walk by the graph
// stops where the proposal forked, as the walk by dates did.
func BenchmarkIsMergedOpenProposal(b *testing.B) {
	bare := gittest.BareRepo(b)
	var in strings.Builder
	const n = 5000
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&in, "commit refs/heads/main\nmark :%d\ncommitter t <t@localhost> %d +0000\ndata 2\nc\n", i, 1700000000+i*3600)
		if i > 1 {
			fmt.Fprintf(&in, "from :%d\n", i-1)
		}
		fmt.Fprintf(&in, "M 644 inline f%d\ndata 2\nx\n\n", i%50)
	}
	fmt.Fprintf(&in, "commit refs/heads/remediation/p\nmark :%d\ncommitter t <t@localhost> %d +0000\ndata 2\np\nfrom :%d\nM 644 inline p\ndata 2\np\n\n", n+1, 1700000000+(n+1)*3600, n-3)
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir, cmd.Stdin = bare, strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("fast-import: %v %s", err, out)
	}
	repo, err := infrarepo.Open(context.Background(), bare, "", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = repo.Close() }()
	head := plumbing.NewHash(gittest.Run(b, bare, "rev-parse", "remediation/p"))
	b.ResetTimer()
	for b.Loop() {
		if merged, err := repo.IsMerged(head, "main"); err != nil || merged {
			b.Fatal(merged, err)
		}
	}
}
