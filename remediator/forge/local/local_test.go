package local

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// fixture is a bare repository with main, a clone to push from, and the local forge
// over a mirror of the repository.
type fixture struct {
	repo, work string
	f          *Forge
	now        time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	repo := gittest.BareRepo(t)
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", repo, work)
	gittest.Run(t, work, "config", "user.name", "Infra")
	gittest.Run(t, work, "config", "user.email", "infra@localhost")
	gittest.WriteFile(t, filepath.Join(work, "envs", "api.auto.tfvars"), "replicas = 2\n")
	gittest.Run(t, work, "add", ".")
	gittest.Run(t, work, "commit", "-qm", "initial")
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:main")
	infra, err := infrarepo.Open(context.Background(), repo, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = infra.Close() })
	key := filepath.Join(t.TempDir(), "key")
	if err := signing.GenerateKeyFile(key); err != nil {
		t.Fatal(err)
	}
	if infra.Signer, err = signing.LoadKey(key); err != nil {
		t.Fatal(err)
	}
	fx := &fixture{repo: repo, work: work, now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	fx.f = &Forge{Infra: infra, Base: "main", AuthorName: "remediator", AuthorEmail: "r@localhost", Now: func() time.Time { return fx.now }}
	return fx
}

// push commits a change on a new branch off main with the message's trailers and
// pushes it; it returns the head.
func (fx *fixture) push(t *testing.T, branch, message string) string {
	t.Helper()
	gittest.Run(t, fx.work, "checkout", "-q", "-B", branch, "origin/main")
	gittest.WriteFile(t, filepath.Join(fx.work, "envs", "api.auto.tfvars"), "replicas = 3 # "+branch+"\n")
	gittest.Run(t, fx.work, "commit", "-qam", message)
	gittest.Run(t, fx.work, "push", "-q", "-f", "origin", branch)
	fx.fetch(t)
	return strings.TrimSpace(gittest.Run(t, fx.work, "rev-parse", "HEAD"))
}

// propose makes the remediator's own proposal: a commit off main signed with its
// key, with the message's trailers, pushed as the branch.
func (fx *fixture) propose(t *testing.T, branch, message string, when time.Time) {
	t.Helper()
	ctx := context.Background()
	fx.fetch(t)
	wt, err := fx.f.Infra.Checkout(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = wt.Close() }()
	if err := wt.Materialize("envs/api.auto.tfvars"); err != nil {
		t.Fatal(err)
	}
	gittest.WriteFile(t, filepath.Join(wt.Dir, "envs", "api.auto.tfvars"), "replicas = 3 # "+branch+"\n")
	c, err := wt.Commit([]string{"envs/api.auto.tfvars"}, message, "remediator", "r@localhost", when)
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.Push(ctx, c, branch); err != nil {
		t.Fatal(err)
	}
	fx.fetch(t)
}

func (fx *fixture) fetch(t *testing.T) {
	t.Helper()
	if err := fx.f.Infra.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
}

const trailers = "remediation scale-out-api-1\n\nRemediation-Id: scale-out-api-1\nRunbook: scale-out\nPolicy: production\nRisk: low\n"

// TestLookupReadsTheBranch: a branch whose head carries the remediation's trailers
// is its open proposal; a branch a person made is none; a merged head is merged.
func TestLookupReadsTheBranch(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	head := fx.push(t, "remediation/scale-out-api-1", trailers)
	fx.push(t, "remediation/by-hand", "a person's branch")

	p, found, err := fx.f.Lookup(ctx, "remediation/scale-out-api-1")
	if err != nil || !found || p.State != forge.Open || p.ID != "scale-out-api-1" || p.Runbook != "scale-out" || p.Policy != "production" ||
		p.Head != head || !slices.Contains(p.Labels, "risk:low") {
		t.Fatalf("lookup: %+v, %v, %v", p, found, err)
	}
	if p, found, err := fx.f.Lookup(ctx, "remediation/by-hand"); err != nil || found {
		t.Fatalf("a person's branch is a proposal: %+v, %v", p, err)
	}
	if p, found, err := fx.f.Lookup(ctx, "remediation/never-pushed"); err != nil || found {
		t.Fatalf("a missing branch is a proposal: %+v, %v", p, err)
	}

	gittest.Run(t, fx.work, "checkout", "-q", "main")
	gittest.Run(t, fx.work, "merge", "-q", "--no-ff", "-m", "merge", head)
	gittest.Run(t, fx.work, "push", "-q", "origin", "main")
	fx.fetch(t)
	if p, found, err := fx.f.Lookup(ctx, "remediation/scale-out-api-1"); err != nil || !found || p.State != forge.Merged {
		t.Fatalf("after the merge: %+v, %v, %v", p, found, err)
	}
}

// TestRecurCountsInGit: repeats are counted in a note on the head, so another
// replica (another mirror of the same repository) goes on from the same count.
func TestRecurCountsInGit(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	fx.push(t, "remediation/scale-out-api-1", trailers)
	p, _, err := fx.f.Lookup(ctx, "remediation/scale-out-api-1")
	if err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 2; want++ {
		if n, err := fx.f.Recur(ctx, p, forge.Request{Seen: fx.now, Value: 0.9}); err != nil || n != want {
			t.Fatalf("recurrence %d: got %d, %v", want, n, err)
		}
	}
	other, err := infrarepo.Open(ctx, fx.repo, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	replica := &Forge{Infra: other, Base: "main", AuthorName: "remediator", AuthorEmail: "r@localhost"}
	if n, err := replica.Recur(ctx, p, forge.Request{Seen: fx.now}); err != nil || n != 3 {
		t.Fatalf("the other replica counted %d, %v; want 3", n, err)
	}
}

// TestCloseIsRecordedBeforeTheBranchGoes: a closed proposal is found closed by its
// sealed record after its branch is deleted, with the label that says why; the same
// head pushed again is still closed.
func TestCloseIsRecordedBeforeTheBranchGoes(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	head := fx.push(t, "remediation/scale-out-api-1", trailers)
	p, _, err := fx.f.Lookup(ctx, "remediation/scale-out-api-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.f.Close(ctx, p, "the anomaly resolved"); err != nil {
		t.Fatal(err)
	}
	if out := gittest.Run(t, fx.repo, "for-each-ref", "refs/heads/remediation/"); out != "" {
		t.Fatalf("the branch is still there: %s", out)
	}
	fx.fetch(t)
	got, found, err := fx.f.Lookup(ctx, "remediation/scale-out-api-1")
	if err != nil || !found || got.State != forge.Closed || !slices.Contains(got.Labels, forge.LabelResolved) || !got.Closed.Equal(fx.now) {
		t.Fatalf("after the close: %+v, %v, %v", got, found, err)
	}
	gittest.Run(t, fx.work, "push", "-q", "origin", head+":refs/heads/remediation/scale-out-api-1")
	fx.fetch(t)
	if again, _, err := fx.f.Lookup(ctx, "remediation/scale-out-api-1"); err != nil || again.State != forge.Closed {
		t.Fatalf("the closed head pushed again: %+v, %v", again, err)
	}
}

// TestProposalsListsOpenAndRecentlyMerged: what the limits count, the remediator's
// own proposals only (signed with its key): a branch someone pushed with its
// trailers, dated now or in the future, would use up the limits and stop every
// remediation.
func TestProposalsListsOpenAndRecentlyMerged(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	fx.propose(t, "remediation/scale-out-api-1", trailers, fx.now)
	fx.propose(t, "remediation/scale-out-api-2", strings.ReplaceAll(trailers, "api-1", "api-2"), fx.now)
	fx.push(t, "remediation/by-hand", "a person's branch")
	fx.push(t, "remediation/scale-out-api-3", strings.ReplaceAll(trailers, "api-1", "api-3"))
	gittest.Run(t, fx.work, "commit", "-q", "--amend", "--date=2030-01-01T00:00:00Z", "-m", strings.ReplaceAll(trailers, "api-1", "api-4"))
	gittest.Run(t, fx.work, "push", "-q", "origin", "HEAD:refs/heads/remediation/scale-out-api-4")
	fx.fetch(t)
	props, err := fx.f.Proposals(ctx, fx.now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range props {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	if strings.Join(ids, " ") != "scale-out-api-1 scale-out-api-2" {
		t.Fatalf("proposals %v, want only the remediator's own (scale-out-api-1 scale-out-api-2)", ids)
	}
}
