package github_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
)

// A one-shot command (propose in CI) is a new process each time: with the pull
// requests kept in its state directory it reads only those updated since the last
// command, one counted request, instead of every page of every pull request the
// repository ever had; what another process opened or closed since is still seen.
// A record of other credentials, another repository or one that does not parse is
// not believed: everything is read again.
func TestOneShotCommandsReadOnlyWhatChanged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const made = 230 // three pages of 100
	for i := range made {
		if i == made-1 {
			// GitHub stamps updated_at to the second, and the read stops at the first
			// pull request older than the newest it read: the last one a second later,
			// so what follows does not depend on how many fit in one second here.
			time.Sleep(1100 * time.Millisecond)
		}
		r := request(fmt.Sprintf("scale-api-%010d", i), "low")
		e.branch(t, r.Branch)
		p, err := e.forge.Open(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			e.srv.Close("acme", "infra", p.Number, time.Now())
		}
	}
	file := filepath.Join(t.TempDir(), "state", "github-proposals.json")
	process := func(repo string) *github.Forge {
		f, err := github.New(github.Options{Owner: "acme", Repository: repo, BaseURL: e.srv.URL, Token: token, RecordFile: file, SelfFile: filepath.Join(filepath.Dir(file), "github-self.json")})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	since := time.Now().Add(-time.Hour)
	count := func(f *github.Forge) (open, all, cost int) {
		t.Helper()
		before := e.srv.Counted()
		props, err := f.Proposals(ctx, since)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range props {
			if p.State == forge.Open {
				open++
			}
		}
		return open, len(props), e.srv.Counted() - before
	}

	if open, all, cost := count(process("infra")); open != made/2 || all != made || cost < 3 {
		t.Fatalf("first command: %d open of %d at %d counted requests, want %d of %d reading every page", open, all, cost, made/2, made)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("nothing kept: %v", err)
	}
	time.Sleep(1100 * time.Millisecond) // GitHub stamps updated_at to the second
	if open, all, cost := count(process("infra")); open != made/2 || all != made || cost != 1 {
		t.Fatalf("next command: %d open of %d at %d counted requests, want %d of %d at 1", open, all, cost, made/2, made)
	}

	// Another process opens one and closes one meanwhile.
	r := request("scale-api-elsewhere0", "low")
	e.branch(t, r.Branch)
	other := process("infra")
	theirs, err := other.Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Close("acme", "infra", 1, time.Now())
	f := process("infra")
	if open, all, cost := count(f); open != made/2 || all != made+1 || cost != 1 {
		t.Fatalf("after another opened #%d and #1 closed: %d open of %d at %d counted requests, want %d of %d at 1",
			theirs.Number, open, all, cost, made/2, made+1)
	}
	if p, found, err := f.Lookup(ctx, r.Branch); err != nil || !found || p.Number != theirs.Number {
		t.Fatalf("lookup of the other process's proposal: %+v %v %v", p, found, err)
	}

	// Not believed: another repository's record, or a damaged one.
	e.srv.CreateRepo("acme", "other", map[string]string{"x": "y"})
	if _, all, _ := count(process("other")); all != 0 {
		t.Fatalf("acme/other has no proposals; the record of acme/infra gave %d", all)
	}
	if err := os.WriteFile(file, []byte(`{"key": "`), 0o600); err != nil {
		t.Fatal(err)
	}
	if open, all, cost := count(process("infra")); open != made/2 || all != made+1 || cost < 3 {
		t.Fatalf("after a damaged record: %d open of %d at %d counted requests, want every page read", open, all, cost)
	}
}
