package catalogstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

func runbook(name string) *runbooks.Runbook {
	return &runbooks.Runbook{
		APIVersion: runbooks.APIVersion,
		Kind:       runbooks.KindRunbook,
		Metadata:   runbooks.Metadata{Name: name},
		Spec: runbooks.RunbookSpec{
			Enabled: true,
			Risk:    runbooks.RiskLow,
			Trigger: runbooks.Trigger{Matchers: []string{fmt.Sprintf(`alertname=%q`, name)}, GroupBy: []string{"service"}},
			Changes: []runbooks.Change{{
				Kind:  runbooks.ChangeHCL,
				File:  "envs/prod/{{ .labels.service }}.auto.tfvars",
				Path:  "replicas",
				Value: "math.least(current * 2, 20)",
			}},
			Verify:   runbooks.Verify{Within: runbooks.Duration(15 * time.Minute), AlertResolved: true, Soak: runbooks.Duration(10 * time.Minute), ApplyTimeout: runbooks.Duration(time.Hour)},
			Rollback: runbooks.RollbackRevert,
		},
	}
}

func open(t testing.TB, repo string) *catalogstore.Store {
	t.Helper()
	s, err := catalogstore.Open(context.Background(), catalogstore.Options{Repository: repo, AuthorName: "tester", AuthorEmail: "tester@localhost"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPutGetDelete(t *testing.T) {
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	s := open(t, repo)

	res, err := s.Put(ctx, runbook("scale-out-api"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Commit == "" {
		t.Fatalf("first put: %+v, want a change and a commit", res)
	}
	if got := gittest.Run(t, repo, "log", "-1", "--format=%s|%an|%ae", "main"); got != "runbook: add scale-out-api|tester|tester@localhost" {
		t.Fatalf("commit = %q", got)
	}
	if got := gittest.Run(t, repo, "rev-parse", "main"); got != res.Commit {
		t.Fatalf("branch at %s, put reported %s", got, res.Commit)
	}
	content := gittest.Run(t, repo, "show", "main:catalog/runbooks/scale-out-api.yaml")
	if !strings.Contains(content, `- alertname="scale-out-api"`) {
		t.Fatalf("file content:\n%s", content)
	}

	// The same content again changes nothing and makes no commit.
	res2, err := s.Put(ctx, runbook("scale-out-api"))
	if err != nil {
		t.Fatal(err)
	}
	if res2.Changed || res2.Commit != res.Commit {
		t.Fatalf("repeat put: %+v, want no change at %s", res2, res.Commit)
	}
	if n := gittest.Run(t, repo, "rev-list", "--count", "main"); n != "1" {
		t.Fatalf("%s commits after a no-op put, want 1", n)
	}

	// A fresh store sees the document.
	snap, err := open(t, repo).Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	doc, found, err := snap.Get(runbooks.KindRunbook, "scale-out-api")
	if err != nil || !found {
		t.Fatalf("get: found=%v err=%v", found, err)
	}
	if doc.(*runbooks.Runbook).Spec.Changes[0].Value != "math.least(current * 2, 20)" {
		t.Fatalf("decoded %+v", doc)
	}

	// Create refuses to overwrite.
	if _, err := s.Create(ctx, runbook("scale-out-api")); !errors.Is(err, catalogstore.ErrExists) {
		t.Fatalf("create over existing: err = %v, want ErrExists", err)
	}

	// Update writes a commit saying so.
	rb := runbook("scale-out-api")
	rb.Spec.Risk = runbooks.RiskHigh
	if _, err := s.Put(ctx, rb); err != nil {
		t.Fatal(err)
	}
	if got := gittest.Run(t, repo, "log", "-1", "--format=%s", "main"); got != "runbook: update scale-out-api" {
		t.Fatalf("commit = %q", got)
	}

	if _, err := s.Delete(ctx, runbooks.KindRunbook, "scale-out-api"); err != nil {
		t.Fatal(err)
	}
	if got := gittest.Run(t, repo, "log", "-1", "--format=%s", "main"); got != "runbook: delete scale-out-api" {
		t.Fatalf("commit = %q", got)
	}
	if out := gittest.Run(t, repo, "ls-tree", "-r", "--name-only", "main"); out != "" {
		t.Fatalf("files left after delete: %q", out)
	}
	// Deleting what is gone is a no-op.
	if res, err := s.Delete(ctx, runbooks.KindRunbook, "scale-out-api"); err != nil || res.Changed {
		t.Fatalf("second delete: %+v %v", res, err)
	}
}

func TestInvalidDocumentIsNeverCommitted(t *testing.T) {
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	s := open(t, repo)
	if _, err := s.Put(ctx, runbook("keep")); err != nil {
		t.Fatal(err)
	}
	head := gittest.Run(t, repo, "rev-parse", "main")

	bad := runbook("broken")
	bad.Spec.Trigger.Matchers = []string{`alertname=~"(unclosed"`}
	bad.Spec.Changes[0].File = ".github/workflows/{{ .labels.service }}.yml"
	_, err := s.Put(ctx, bad)
	if err == nil {
		t.Fatal("invalid runbook was accepted")
	}
	for _, want := range []string{"spec.trigger.matchers[0]", "spec.changes[0].file", "protected"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// Prepare finds the same problems, as runbooks.Errors a caller can place.
	_, err = catalogstore.Prepare(bad)
	var errs runbooks.Errors
	if !errors.As(err, &errs) || len(errs) < 2 {
		t.Errorf("Prepare of an invalid runbook: %v, want its runbooks.Errors", err)
	}
	// A Prepared that Prepare did not make carries nothing unchecked into a commit.
	if _, err := s.PutPrepared(ctx, catalogstore.Prepared{}); err == nil || !strings.Contains(err.Error(), "not prepared") {
		t.Errorf("write of an unprepared document: %v", err)
	}
	if got := gittest.Run(t, repo, "rev-parse", "main"); got != head {
		t.Fatalf("branch moved from %s to %s after a rejected write", head, got)
	}
}

// Two independent clones, as two terraform runs or two remediator replicas would have,
// each write 100 documents at once to one bare repository.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	t.Run("all at once", func(t *testing.T) {
		concurrentWriters(t, 100, func(s *catalogstore.Store, names []string, write func(*catalogstore.Store, string)) {
			var wg sync.WaitGroup
			for _, name := range names {
				wg.Add(1)
				go func() { defer wg.Done(); write(s, name) }()
			}
			wg.Wait()
		})
	})
	// One write at a time per clone: every push races the other clone's, so the
	// fetch, re-apply and push-again path carries most writes.
	t.Run("one at a time each", func(t *testing.T) {
		concurrentWriters(t, 30, func(s *catalogstore.Store, names []string, write func(*catalogstore.Store, string)) {
			for _, name := range names {
				write(s, name)
			}
		})
	})
}

func concurrentWriters(t *testing.T, each int, run func(*catalogstore.Store, []string, func(*catalogstore.Store, string))) {
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	stores := []*catalogstore.Store{open(t, repo), open(t, repo)}
	errs := make(chan error, 2*each)
	write := func(s *catalogstore.Store, name string) {
		if _, err := s.Create(ctx, runbook(name)); err != nil {
			errs <- fmt.Errorf("%s: %w", name, err)
		}
	}
	var wg sync.WaitGroup
	for w, s := range stores {
		names := make([]string, each)
		for i := range names {
			names[i] = fmt.Sprintf("w%d-rb-%03d", w, i)
		}
		wg.Add(1)
		go func() { defer wg.Done(); run(s, names, write) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	files := strings.Split(gittest.Run(t, repo, "ls-tree", "-r", "--name-only", "main"), "\n")
	if len(files) != 2*each {
		t.Fatalf("%d files on main, want %d", len(files), 2*each)
	}
	if merges := gittest.Run(t, repo, "rev-list", "--merges", "--count", "main"); merges != "0" {
		t.Fatalf("%s merge commits, want a linear history", merges)
	}
	// Group commit: far fewer commits than writes, yet every write is in one of them.
	commits := gittest.Run(t, repo, "rev-list", "--count", "main")
	t.Logf("%d writes landed in %s commits", 2*each, commits)
	snap, err := open(t, repo).Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := snap.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Runbooks) != 2*each {
		t.Fatalf("catalog holds %d runbooks, want %d", len(cat.Runbooks), 2*each)
	}
}

func TestWriterRetriesAfterOutOfBandPush(t *testing.T) {
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	s := open(t, repo)
	if _, err := s.Put(ctx, runbook("first")); err != nil {
		t.Fatal(err)
	}
	// Someone pushes with the git CLI behind the store's back.
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", repo, work)
	if err := os.WriteFile(filepath.Join(work, "README.md"), []byte("infra catalog\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gittest.Run(t, work, "add", "README.md")
	gittest.Run(t, work, "commit", "-qm", "docs: readme")
	gittest.Run(t, work, "push", "-q", "origin", "main")

	if _, err := s.Put(ctx, runbook("second")); err != nil {
		t.Fatal(err)
	}
	files := gittest.Run(t, repo, "ls-tree", "-r", "--name-only", "main")
	for _, want := range []string{"README.md", "catalog/runbooks/first.yaml", "catalog/runbooks/second.yaml"} {
		if !strings.Contains(files, want) {
			t.Errorf("%s missing from main:\n%s", want, files)
		}
	}
	if parent := gittest.Run(t, repo, "log", "-1", "--format=%s", "main~1"); parent != "docs: readme" {
		t.Fatalf("store's commit is not on top of the out-of-band one: parent %q", parent)
	}
}

// TestUnchangedWriteChecksTheRemote: a write that changes nothing on the head the
// store remembers (its own last push) reports success only once a fetch shows the
// remote holds the document: here someone deleted it behind the store's back, so the
// same write commits it again.
func TestUnchangedWriteChecksTheRemote(t *testing.T) {
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	s := open(t, repo)
	if _, err := s.Put(ctx, runbook("kept")); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", repo, work)
	gittest.Run(t, work, "rm", "-q", "catalog/runbooks/kept.yaml")
	gittest.Run(t, work, "commit", "-qm", "runbook: delete kept by hand")
	gittest.Run(t, work, "push", "-q", "origin", "main")

	res, err := s.Put(ctx, runbook("kept"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed {
		t.Error("the write reported no change, but the remote no longer held the document")
	}
	if files := gittest.Run(t, repo, "ls-tree", "-r", "--name-only", "main"); !strings.Contains(files, "catalog/runbooks/kept.yaml") {
		t.Errorf("the document is not on main after the write succeeded:\n%s", files)
	}
	// Unchanged on a head just fetched: nothing to commit, and no new commit.
	head := gittest.Run(t, repo, "rev-parse", "main")
	if res, err := s.Put(ctx, runbook("kept")); err != nil || res.Changed || res.Commit != head {
		t.Errorf("unchanged write: %+v %v, want no change at %s", res, err, head)
	}
	if got := gittest.Run(t, repo, "rev-parse", "main"); got != head {
		t.Errorf("an unchanged write moved main to %s", got)
	}
}

func TestSnapshotAtRefAndBadCatalog(t *testing.T) {
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	s := open(t, repo)
	res, err := s.Put(ctx, runbook("one"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, runbook("two")); err != nil {
		t.Fatal(err)
	}
	old, err := s.SnapshotAt(ctx, res.Commit)
	if err != nil {
		t.Fatal(err)
	}
	if got := old.Names(runbooks.KindRunbook); strings.Join(got, ",") != "one" {
		t.Fatalf("at first commit: %v", got)
	}
	gittest.Run(t, repo, "tag", "v1", res.Commit)
	tagged, err := s.SnapshotAt(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if tagged.Head != res.Commit {
		t.Fatalf("tag v1 read at %s, want %s", tagged.Head, res.Commit)
	}

	// A hand-edited file with a typo: the catalog read names file, line and field.
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", repo, work)
	p := filepath.Join(work, "catalog/runbooks/two.yaml")
	b, _ := os.ReadFile(p)
	b = []byte(strings.Replace(string(b), "  risk: low", "  risk: low\n  riks: high", 1))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	gittest.Run(t, work, "commit", "-qam", "typo")
	gittest.Run(t, work, "push", "-q", "origin", "main")
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = snap.Catalog()
	if err == nil || !strings.Contains(err.Error(), "catalog/runbooks/two.yaml:8:3: spec.riks: unknown field") {
		t.Fatalf("err = %v", err)
	}
}

func TestOpenErrorsDoNotLeakToken(t *testing.T) {
	_, err := catalogstore.Open(context.Background(), catalogstore.Options{Repository: "https://user:s3cr3t-token@127.0.0.1:1/x.git", Token: "another-s3cr3t"})
	if err == nil {
		t.Fatal("open of an unreachable repository succeeded")
	}
	for _, secret := range []string{"s3cr3t-token", "another-s3cr3t"} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error leaks a secret: %v", err)
		}
	}
}

// TestRoundsShareOnePush: ten writers, each writing its next document a little while
// after the last one returned, as Terraform's ten slots do, share one push per round
// rather than trickling into two or three, where a push costs more than the writers'
// spread: the repository's hook keeps its pushes on git receive-pack. (Written
// directly, a push costs a few milliseconds and this timing bound is not one the
// writers' 20-56 ms spread always meets: 11 pushes once in 25 runs.)
func TestRoundsShareOnePush(t *testing.T) {
	repo := gittest.BareRepo(t)
	gittest.Hook(t, repo, "post-update", "exit 0\n")
	ctx := context.Background()
	s := open(t, repo)
	const writers, each = 10, 6
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := s.Put(ctx, runbook(fmt.Sprintf("w%d-%d", w, i))); err != nil {
					t.Error(err)
					return
				}
				// Terraform's work between one resource's write and the next one's.
				time.Sleep(time.Duration(20+4*w) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	commits := gittest.Run(t, repo, "rev-list", "--count", "main")
	var n int
	if _, err := fmt.Sscan(commits, &n); err != nil {
		t.Fatal(err)
	}
	// A whole round is ten writes; the first two pushes fill the pipeline (a lone
	// first write, then the rest of its round), and a late writer may miss a round.
	if n > writers*each/writers+4 {
		t.Errorf("%d pushes for %d writes from %d writers, want at most %d", n, writers*each, writers, writers*each/writers+4)
	}
	if files := strings.Count(gittest.Run(t, repo, "ls-tree", "-r", "--name-only", "main"), "\n") + 1; files != writers*each {
		t.Errorf("%d files on main, want %d", files, writers*each)
	}
	t.Logf("%d writes in %d pushes", writers*each, n)
}

// TestHooksStillRun: a catalog repository on this machine is updated in-process only
// when git receive-pack would do nothing more; a hook there keeps every push going
// through receive-pack, so the hook still decides. A rejecting pre-receive hook fails
// the write with the hook's words; one installed after the store opened is caught at
// the next write.
func TestHooksStillRun(t *testing.T) {
	ctx := context.Background()
	t.Run("a hook from the start", func(t *testing.T) {
		repo := gittest.BareRepo(t)
		gittest.Hook(t, repo, "pre-receive", "echo 'the catalog is frozen for the release' >&2; exit 1\n")
		_, err := open(t, repo).Put(ctx, runbook("blocked"))
		if err == nil || !strings.Contains(err.Error(), "the catalog is frozen") {
			t.Fatalf("write through a rejecting hook: %v, want the hook's message", err)
		}
		if out, err := gittest.Output(repo, "rev-parse", "--verify", "-q", "main"); err == nil {
			t.Fatalf("main exists at %s though the hook refused it", out)
		}
	})
	t.Run("a hook installed after the store opened", func(t *testing.T) {
		repo := gittest.BareRepo(t)
		s := open(t, repo)
		if _, err := s.Put(ctx, runbook("before")); err != nil {
			t.Fatal(err)
		}
		marker := filepath.Join(t.TempDir(), "ran")
		gittest.Hook(t, repo, "pre-receive", "touch "+marker+"\n")
		if _, err := s.Put(ctx, runbook("after")); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(marker); err != nil {
			t.Fatalf("the pre-receive hook did not run for the write after it was installed: %v", err)
		}
		if files := gittest.Run(t, repo, "ls-tree", "-r", "--name-only", "main"); !strings.Contains(files, "after.yaml") {
			t.Fatalf("after.yaml missing from main:\n%s", files)
		}
	})
}

// TestWriteRespectsACheckedOutBranch: a catalog branch checked out in a linked
// worktree of the repository is refused as git push refuses it (the worktree's
// files would no longer match its branch), with git's words, and the branch stays.
func TestWriteRespectsACheckedOutBranch(t *testing.T) {
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	s := open(t, repo)
	if _, err := s.Put(ctx, runbook("before")); err != nil {
		t.Fatal(err)
	}
	head := gittest.Run(t, repo, "rev-parse", "main")
	gittest.Run(t, repo, "worktree", "add", "-q", filepath.Join(t.TempDir(), "wt"), "main")
	_, err := s.Put(ctx, runbook("after"))
	if err == nil || !strings.Contains(err.Error(), "checked out") {
		t.Fatalf("write to a checked-out branch: %v, want git's refusal", err)
	}
	if got := gittest.Run(t, repo, "rev-parse", "main"); got != head {
		t.Fatalf("main moved from %s to %s under a worktree", head, got)
	}
}
