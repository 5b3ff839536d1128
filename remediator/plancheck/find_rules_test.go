package plancheck_test

// Rules of finding the artifact a change carries (what plan-check judges the plan
// by): the one .remediations/<id>.yaml the change adds or edits against its merge
// base with the base branch; none means not a remediation; more than one, or one
// that cannot be read, is refused. Mutation testing (make mutation) found these
// unguarded.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/plancheck"
)

const rulesArtifactYAML = "apiVersion: remediation.gitops.dev/v1\nkind: Remediation\nid: %s\nrunbook: scale\npolicy: prod\nrisk: low\n"

func artifactYAML(id string) string { return strings.Replace(rulesArtifactYAML, "%s", id, 1) }

// changeRepo is a work tree whose main has an old artifact and whose checked-out
// branch "change" adds the given files (path, content pairs; content "" deletes).
func changeRepo(t *testing.T, files ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "infra")
	gittest.Run(t, "", "init", "-q", "--initial-branch=main", dir)
	gittest.WriteFile(t, filepath.Join(dir, "envs", "svc.tfvars"), "replicas = 1\n")
	gittest.WriteFile(t, filepath.Join(dir, ".remediations", "old-1.yaml"), artifactYAML("old-1"))
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "-qm", "base")
	gittest.Run(t, dir, "checkout", "-qb", "change")
	for i := 0; i+1 < len(files); i += 2 {
		p := filepath.Join(dir, files[i])
		if files[i+1] == "" {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		gittest.WriteFile(t, p, files[i+1])
	}
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "-qm", "change", "--allow-empty")
	return dir
}

func TestRuleFindArtifactOfTheChange(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		file  string // the artifact found, "" for none
		err   string
	}{
		{"one artifact added", []string{"envs/svc.tfvars", "replicas = 2\n", ".remediations/new-1.yaml", artifactYAML("new-1")}, ".remediations/new-1.yaml", ""},
		{"the old artifact edited", []string{".remediations/old-1.yaml", artifactYAML("old-1") + "target: x\n"}, ".remediations/old-1.yaml", ""},
		{"no artifact: not a remediation", []string{"envs/svc.tfvars", "replicas = 2\n"}, "", ""},
		{"an artifact deleted is not carried", []string{".remediations/old-1.yaml", ""}, "", ""},
		{"a deletion listed before the one added", []string{".remediations/old-1.yaml", "", ".remediations/zz-1.yaml", artifactYAML("zz-1")}, ".remediations/zz-1.yaml", ""},
		{"not yaml", []string{".remediations/notes.txt", "x\n"}, "", ""},
		{"below the directory", []string{".remediations/sub/new-1.yaml", artifactYAML("new-1")}, "", ""},
		{"two artifacts", []string{".remediations/a-1.yaml", artifactYAML("a-1"), ".remediations/b-1.yaml", artifactYAML("b-1")}, "",
			"the change holds 2 remediation artifacts (.remediations/a-1.yaml, .remediations/b-1.yaml): a proposal carries exactly one"},
		{"an unreadable artifact", []string{".remediations/bad-1.yaml", "kind: Something\n"}, "", ".remediations/bad-1.yaml: decode artifact"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := changeRepo(t, tc.files...)
			a, file, found, err := plancheck.FindArtifact(dir, "main")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || found || a != nil {
					t.Fatalf("want refused with %q, got %v (found %v)", tc.err, err, found)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if file != tc.file || found != (tc.file != "") || (a != nil) != found {
				t.Fatalf("found %v %q, want %q", found, file, tc.file)
			}
			if found && ".remediations/"+a.ID+".yaml" != file {
				t.Fatalf("artifact %s read from %s", a.ID, file)
			}
		})
	}
}

// The base is a branch, origin/<branch> or a commit; the artifact is judged against
// the merge base, so a later change on the base is not the change's.
func TestRuleFindArtifactAgainstTheMergeBase(t *testing.T) {
	dir := changeRepo(t, ".remediations/new-1.yaml", artifactYAML("new-1"))
	gittest.Run(t, dir, "checkout", "-q", "main")
	gittest.WriteFile(t, filepath.Join(dir, ".remediations", "later-1.yaml"), artifactYAML("later-1"))
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "-qm", "later on main")
	gittest.Run(t, dir, "update-ref", "refs/remotes/origin/release", "main~1")
	gittest.Run(t, dir, "checkout", "-q", "change")
	for _, base := range []string{"main", "release", gittest.Run(t, dir, "rev-parse", "main")} {
		_, file, found, err := plancheck.FindArtifact(filepath.Join(dir, "envs"), base)
		if err != nil || !found || file != ".remediations/new-1.yaml" {
			t.Fatalf("base %s, from a subdirectory: %q %v %v, want the change's own artifact", base, file, found, err)
		}
	}
	if _, _, _, err := plancheck.FindArtifact(dir, "trunk"); err == nil || !strings.Contains(err.Error(), `--base trunk: no branch or commit "trunk"`) {
		t.Fatalf("an unknown base: %v", err)
	}
	if _, _, _, err := plancheck.FindArtifact(t.TempDir(), "main"); err == nil || !strings.Contains(err.Error(), "open repository") {
		t.Fatalf("not a repository: %v", err)
	}
	gittest.Run(t, dir, "checkout", "-q", "--orphan", "alone")
	gittest.Run(t, dir, "commit", "-qm", "unrelated")
	if _, _, _, err := plancheck.FindArtifact(dir, "main"); err == nil || !strings.Contains(err.Error(), "HEAD and main share no history") {
		t.Fatalf("no shared history: %v", err)
	}
}

func TestRuleReadArtifactNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.yaml")
	gittest.WriteFile(t, good, artifactYAML("new-1"))
	if a, err := plancheck.ReadArtifact(good); err != nil || a.ID != "new-1" {
		t.Fatalf("read %s: %v", good, err)
	}
	bad := filepath.Join(dir, "b.yaml")
	gittest.WriteFile(t, bad, "kind: x\n")
	if _, err := plancheck.ReadArtifact(bad); err == nil || !strings.HasPrefix(err.Error(), bad+": decode artifact") {
		t.Fatalf("a bad artifact: %v", err)
	}
	if _, err := plancheck.ReadArtifact(filepath.Join(dir, "none.yaml")); err == nil || !strings.HasPrefix(err.Error(), "read artifact: ") {
		t.Fatalf("a missing artifact: %v", err)
	}
}
