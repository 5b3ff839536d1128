package catalogstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// BenchmarkPublish publishes one runbook to a bare repository holding 1,000: the
// store (fetch, commit, push with go-git) against its peer, the git CLI doing the
// same in a clone (pull, write, add, commit, push).
func BenchmarkPublish(b *testing.B) {
	ctx := context.Background()
	repo := filepath.Join(b.TempDir(), "catalog.git")
	gittest.Run(b, "", "init", "-q", "--bare", "--initial-branch=main", repo)
	seed := open(b, repo)
	for i := 0; i < 1000; i += 100 {
		errs := make(chan error, 100)
		for j := i; j < i+100; j++ {
			go func() {
				_, err := seed.Put(ctx, runbook(fmt.Sprintf("seed-%04d", j)))
				errs <- err
			}()
		}
		for j := 0; j < 100; j++ {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
	}

	// b.Run calls each function several times; names never repeat, so every write
	// is a real change.
	n := 0
	b.Run("catalogstore", func(b *testing.B) {
		s := open(b, repo)
		for i := 0; i < b.N; i++ {
			n++
			if _, err := s.Put(ctx, runbook(fmt.Sprintf("store-%06d", n))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("peer=git_cli", func(b *testing.B) {
		work := b.TempDir()
		gittest.Run(b, "", "clone", "-q", repo, work)
		for i := 0; i < b.N; i++ {
			n++
			rb := runbook(fmt.Sprintf("cli-%06d", n))
			data, err := runbooks.Encode(rb)
			if err != nil {
				b.Fatal(err)
			}
			gittest.Run(b, work, "pull", "-q", "--rebase", "origin", "main")
			if err := os.WriteFile(filepath.Join(work, "catalog/runbooks", rb.Metadata.Name+".yaml"), data, 0o644); err != nil {
				b.Fatal(err)
			}
			gittest.Run(b, work, "add", "catalog")
			gittest.Run(b, work, "commit", "-qm", "runbook: add "+rb.Metadata.Name)
			gittest.Run(b, work, "push", "-q", "origin", "HEAD:main")
		}
	})
}

// BenchmarkRoundOfTen is a Terraform round as the provider sees it: ten writers (the
// default -parallelism) each write a document and wait for it to be pushed, round
// after round; per op is one round. Against a bare repository on this machine the
// store writes the objects and moves the branch itself (gitpush.Direct); its peer is
// the same round pushed through git receive-pack, as git push does it (a post-update
// hook in the repository keeps the store on that path): its processes, its pack and
// its connectivity check.
func BenchmarkRoundOfTen(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		hook bool
	}{{"direct", false}, {"peer=receive_pack", true}} {
		b.Run(bc.name, func(b *testing.B) {
			repo := gittest.BareRepo(b)
			if bc.hook {
				gittest.Hook(b, repo, "post-update", "exit 0\n")
			}
			s := open(b, repo)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				errs := make(chan error, 10)
				for j := 0; j < 10; j++ {
					go func() {
						_, err := s.Put(ctx, runbook(fmt.Sprintf("round-%06d-%02d", i, j)))
						errs <- err
					}()
				}
				for j := 0; j < 10; j++ {
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
