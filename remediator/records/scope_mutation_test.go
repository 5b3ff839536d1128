package records_test

// The scope rule (remediator/TRUST.md: a proposal touches only what its runbook
// produces): from the merge base to the head, only the files the runbook's changes
// render for the recorded anomaly (for a rollback: the files the reverted merge
// changed, for a revert change: its paths), the proposal's own artifact, and never a
// protected path. On a repository written in-process, fast enough for mutation
// testing (make mutation).

import (
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/infratest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// storeTree writes files (path: content) as nested trees and returns the root's hash.
func storeTree(t *testing.T, st storage.Storer, files map[string]string) plumbing.Hash {
	t.Helper()
	sub := map[string]map[string]string{}
	var tree object.Tree
	for p, content := range files {
		dir, rest, nested := strings.Cut(p, "/")
		if nested {
			if sub[dir] == nil {
				sub[dir] = map[string]string{}
			}
			sub[dir][rest] = content
			continue
		}
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: p, Mode: filemode.Regular, Hash: storeBlob(t, st, []byte(content))})
	}
	for dir, fs := range sub {
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: storeTree(t, st, fs)})
	}
	// Git orders a directory's entries as if the directory's name ended in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(tree.Entries, func(i, j int) bool { return key(tree.Entries[i]) < key(tree.Entries[j]) })
	return storeObject(t, st, &tree)
}

// scopeRepo is a repository whose main holds base files and a merged change of
// merged files, and a proposal head (from main) that sets the head files; it returns
// the mirror, the head and the merged change's commit.
func scopeRepo(t *testing.T, head map[string]string) (infra *infrarepo.Repo, h, merged plumbing.Hash) {
	t.Helper()
	bare := t.TempDir()
	repo, err := git.PlainInit(bare, true)
	if err != nil {
		t.Fatal(err)
	}
	st := repo.Storer
	files := map[string]string{"README.md": "infra\n", "envs/prod/web.auto.tfvars": "replicas = 2\n", "envs/prod/db.auto.tfvars": "size = 1\n"}
	sig := object.Signature{Name: "dev", Email: "dev@localhost", When: recordsNow}
	commit := func(parent plumbing.Hash, changes map[string]string) plumbing.Hash {
		for p, c := range changes {
			files[p] = c
		}
		c := &object.Commit{Author: sig, Committer: sig, Message: "change\n", TreeHash: storeTree(t, st, files)}
		if !parent.IsZero() {
			c.ParentHashes = []plumbing.Hash{parent}
		}
		return storeObject(t, st, c)
	}
	root := commit(plumbing.ZeroHash, nil)
	merged = commit(root, map[string]string{"envs/prod/db.auto.tfvars": "size = 2\n", ".remediations/old-1.yaml": "id: old-1\n"})
	h = commit(merged, head)
	if err := st.SetReference(plumbing.NewHashReference("refs/heads/main", merged)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetReference(plumbing.NewHashReference("refs/heads/remediation/web-1", h)); err != nil {
		t.Fatal(err)
	}
	return infratest.Open(t, bare, nil), h, merged
}

func TestRuleScopeIsWhatTheRunbookProduces(t *testing.T) {
	rb := &runbooks.Runbook{}
	rb.Spec.Changes = []runbooks.Change{
		{Kind: runbooks.ChangeRevert, Paths: []string{"flags/{{ .labels.service }}/**"}},
		{Kind: "hcl", File: "envs/{{ .labels.missing_label }}/x.tfvars", Path: "x", Value: "1"},
		{Kind: "hcl", File: "envs/{{ .labels.cluster }}/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "current + 1"},
	}
	pol := &runbooks.Policy{}
	pol.Spec.ProtectedPaths = []string{"secrets/**"}
	terms := records.Terms{Runbook: rb, Policy: pol}
	art := &artifact.Artifact{ID: "web-1", Anomaly: artifact.Anomaly{Labels: map[string]string{"cluster": "prod", "service": "web"}}}
	for _, tc := range []struct {
		name string
		head map[string]string
		want string // "" when in scope, else the reason's tail
	}{
		{"the rendered file and its own artifact", map[string]string{"envs/prod/web.auto.tfvars": "replicas = 3\n", ".remediations/web-1.yaml": "id: web-1\n"}, ""},
		{"a file under the revert change's paths", map[string]string{"flags/web/a/b.json": "{}\n"}, ""},
		{"another service's file", map[string]string{"envs/prod/db.auto.tfvars": "size = 9\n"}, "envs/prod/db.auto.tfvars is not a file its runbook changes"},
		{"another proposal's artifact", map[string]string{".remediations/old-1.yaml": "id: forged\n"}, ".remediations/old-1.yaml is protected"},
		{"a path the policy protects", map[string]string{"secrets/k": "x\n"}, "secrets/k is protected (secrets/**)"},
		{"two strays, both named", map[string]string{"a.txt": "x\n", "flags/db/x": "y\n"}, "a.txt is not a file its runbook changes; flags/db/x is not a file its runbook changes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			infra, head, _ := scopeRepo(t, tc.head)
			got, err := records.Scope(infra, "main", head, art, terms)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" && got != "" || tc.want != "" && !strings.HasPrefix(got, "the change reaches beyond its runbook: ") || !strings.Contains(got, tc.want) {
				t.Fatalf("scope: %q, want %q", got, tc.want)
			}
		})
	}
	infra, _, _ := scopeRepo(t, nil)
	if _, err := records.Scope(infra, "trunk", plumbing.ZeroHash, art, terms); err == nil || !strings.Contains(err.Error(), "scope of web-1") {
		t.Fatalf("no base: %v", err)
	}
}

// A rollback may change the files the merge it reverts changed (never that merge's
// artifact), whatever its runbook's changes are.
func TestRuleScopeOfARollbackIsTheRevertedMerge(t *testing.T) {
	infra, head, merged := scopeRepo(t, map[string]string{"envs/prod/db.auto.tfvars": "size = 1\n", ".remediations/web-1-rollback.yaml": "id: x\n"})
	terms := records.Terms{Runbook: &runbooks.Runbook{}, Policy: &runbooks.Policy{}}
	art := &artifact.Artifact{ID: "web-1-rollback", RollbackOf: "web-1", Reverts: []artifact.Reverted{{Commit: merged.String()}}}
	if got, err := records.Scope(infra, "main", head, art, terms); err != nil || got != "" {
		t.Fatalf("the rollback's own files: %q %v", got, err)
	}
	infra, head, merged = scopeRepo(t, map[string]string{"envs/prod/web.auto.tfvars": "replicas = 0\n", ".remediations/old-1.yaml": "id: y\n"})
	art.Reverts = []artifact.Reverted{{Commit: merged.String()}}
	got, err := records.Scope(infra, "main", head, art, terms)
	if err != nil || !strings.Contains(got, "envs/prod/web.auto.tfvars is not a file its runbook changes") || !strings.Contains(got, ".remediations/old-1.yaml is protected") {
		t.Fatalf("beyond the reverted merge: %q %v", got, err)
	}
	art.Reverts = []artifact.Reverted{{Commit: strings.Repeat("ab", 20)}}
	if _, err := records.Scope(infra, "main", head, art, terms); err == nil || !strings.Contains(err.Error(), "files of the reverted merge abab") {
		t.Fatalf("a reverted merge that is not there: %v", err)
	}
}
