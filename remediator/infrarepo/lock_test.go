package infrarepo_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

// serve and a cron `reconcile` with the same configuration share a state directory:
// one process has the shared mirror, the other works in a private one, removed when
// it is done; the shared one is free again when its holder closes.
func TestMirrorIsNeverSharedBetweenTwoUsers(t *testing.T) {
	bare := gittest.BareRepo(t)
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", bare, work)
	gittest.WriteFile(t, filepath.Join(work, "README.md"), "infra\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "initial")
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:main")
	ctx := context.Background()
	state := t.TempDir()
	shared := filepath.Join(state, "mirror", "infra.git")

	first, err := infrarepo.Open(ctx, bare, "", state)
	if err != nil {
		t.Fatal(err)
	}
	second, err := infrarepo.Open(ctx, bare, "", state)
	if err != nil {
		t.Fatal(err)
	}
	if first.MirrorDir() != shared || second.MirrorDir() == shared {
		t.Fatalf("mirrors %s and %s: want the shared one, then a private one", first.MirrorDir(), second.MirrorDir())
	}
	if _, ok := second.Branch("main"); !ok {
		t.Fatal("the private mirror has not fetched main")
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(second.MirrorDir()); !os.IsNotExist(err) {
		t.Fatalf("the private mirror is still there: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	third, err := infrarepo.Open(ctx, bare, "", state)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if third.MirrorDir() != shared {
		t.Fatalf("after the holder closed: %s, want the shared mirror again", third.MirrorDir())
	}
}
