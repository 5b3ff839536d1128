package catalogstore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// crashWriterRepo, set in a child's environment, makes TestKilledWriter's child a
// writer that publishes runbooks to that repository until it is killed.
const crashWriterRepo = "CATALOGSTORE_CRASH_WRITER_REPO"

// TestKilledWriter: a writer killed (SIGKILL, no chance to clean up) at any moment of
// its rounds leaves a repository git accepts whole: the branch never names a commit
// whose objects are missing (git fsck), its history stays linear, every document on it
// decodes, and the next writer publishes on top. The one thing a kill can leave is
// the branch's lock file, held for the few microseconds of a compare-and-swap, as a
// killed git push leaves it: the next write then says which file to delete.
func TestKilledWriter(t *testing.T) {
	if repo := os.Getenv(crashWriterRepo); repo != "" {
		writeUntilKilled(repo)
		return
	}
	ctx := context.Background()
	repo := gittest.BareRepo(t)
	for kill := 0; kill < 8; kill++ {
		before := commits(t, repo)
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashWriterRepo+"="+repo, fmt.Sprintf("CATALOGSTORE_CRASH_ROUND=%d", kill))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it a varying while after it has pushed something of its own.
		for deadline := time.Now().Add(time.Minute); commits(t, repo) <= before; {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatal("the writer pushed nothing in a minute")
			}
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(time.Duration(kill*9) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()

		gittest.Run(t, repo, "fsck", "--strict", "--no-dangling")
		if merges := gittest.Run(t, repo, "rev-list", "--merges", "--count", "main"); merges != "0" {
			t.Fatalf("kill %d: %s merges, want a linear history", kill, merges)
		}
		s := open(t, repo)
		snap, err := s.Snapshot(ctx)
		if err != nil {
			t.Fatalf("kill %d: read the catalog: %v", kill, err)
		}
		if _, err := snap.Catalog(); err != nil {
			t.Fatalf("kill %d: the catalog on main does not load: %v", kill, err)
		}
		_, err = s.Put(ctx, runbook(fmt.Sprintf("after-kill-%d", kill)))
		lock := filepath.Join(repo, "refs", "heads", "main.lock")
		if _, statErr := os.Stat(lock); statErr == nil {
			// Killed holding the lock: the write must say so, and name the file.
			if err == nil || !strings.Contains(err.Error(), lock) {
				t.Fatalf("kill %d: a write with a stale lock: %v, want an error naming %s", kill, err, lock)
			}
			t.Logf("kill %d: killed holding the branch's lock; deleting it as the error says", kill)
			if err := os.Remove(lock); err != nil {
				t.Fatal(err)
			}
			_, err = s.Put(ctx, runbook(fmt.Sprintf("after-kill-%d", kill)))
		}
		if err != nil {
			t.Fatalf("kill %d: the next writer: %v", kill, err)
		}
	}
	t.Logf("%d commits after 8 kills", commits(t, repo))
}

// writeUntilKilled is the child: rounds of ten writers, as Terraform's, forever.
func writeUntilKilled(repo string) {
	ctx := context.Background()
	s, err := catalogstore.Open(ctx, catalogstore.Options{Repository: repo})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	round := os.Getenv("CATALOGSTORE_CRASH_ROUND")
	for i := 0; ; i++ {
		done := make(chan error, 10)
		for w := 0; w < 10; w++ {
			go func() {
				_, err := s.Put(ctx, runbook(fmt.Sprintf("k%s-%04d-%d", round, i, w)))
				done <- err
			}()
		}
		for w := 0; w < 10; w++ {
			if err := <-done; err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
}

func commits(t *testing.T, repo string) int {
	t.Helper()
	out, err := gittest.Output(repo, "rev-list", "--count", "main")
	if err != nil {
		return 0 // no branch yet
	}
	var n int
	if _, err := fmt.Sscan(out, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
