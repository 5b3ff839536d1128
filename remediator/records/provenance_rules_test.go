package records_test

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// rulesHead is a proposal head commit with the given message, signed by k (unsigned when nil).
func rulesHead(t *testing.T, k *signing.Key, message string) *object.Commit {
	t.Helper()
	sig := object.Signature{Name: "remediator", Email: "remediator@example.com", When: rulesNow}
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: plumbing.NewHash(rulesCommit)}
	if k != nil {
		if err := signing.SignCommit(c, k); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

const rulesID = "a1b2c3d4e5f60718"

func TestRuleProvenanceHeadIsTheRemediatorsCommitForThisProposal(t *testing.T) {
	rem, _ := rulesSigner(t)
	person, _ := rulesSigner(t)
	msg := func(id string) string { return "remediate: scale web\n\nRemediation-Id: " + id + "\n" }
	for _, tc := range []struct {
		name string
		head *object.Commit
		key  bool
		want string // "" for the remediator's own head, else a part of the reason
	}{
		{"its own commit for this proposal", rulesHead(t, rem, msg(rulesID)), true, ""},
		{"its own commit for another proposal", rulesHead(t, rem, msg("ffffffffffffffff")), true, `a remediator commit of "ffffffffffffffff", not of ` + rulesID},
		{"its own commit without the trailer", rulesHead(t, rem, "remediate: scale web\n"), true, `a remediator commit of "", not of`},
		{"a person's commit", rulesHead(t, person, msg(rulesID)), true, records.ChangedByPerson},
		{"unsigned", rulesHead(t, nil, msg(rulesID)), true, "it is not signed"},
		{"no key to check with", rulesHead(t, rem, msg(rulesID)), false, "no signing key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := rem.Public()
			if !tc.key {
				key = nil
			}
			got := records.Provenance(tc.head, rulesID, key)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("Provenance = %q, want %q", got, tc.want)
			}
		})
	}
}

// A proposal touches its own artifact and the files its runbook changes; never
// another proposal's artifact (every other file under .remediations/ is protected),
// never a protected path, even one its runbook names.
func TestRuleScopeOnlyItsOwnArtifactAndItsRunbooksFiles(t *testing.T) {
	allowed := func(f string) bool { return f == "k8s/web.yaml" || f == ".github/workflows/ci.yml" }
	files := []string{
		artifact.Path(rulesID),
		artifact.Path("ffffffffffffffff"),
		".remediations/" + rulesID + ".yaml.orig",
		"k8s/web.yaml",
		".github/workflows/ci.yml",
		"k8s/db.yaml",
		"secrets/prod.env",
	}
	var got []string
	for _, s := range records.OutOfScope(files, rulesID, []string{"secrets/"}, allowed) {
		got = append(got, s.File+"="+s.Protected)
	}
	want := ".remediations/ffffffffffffffff.yaml=.remediations/**,.remediations/" + rulesID + ".yaml.orig=.remediations/**," +
		".github/workflows/ci.yml=.github/**,k8s/db.yaml=,secrets/prod.env=secrets/"
	if strings.Join(got, ",") != want {
		t.Fatalf("out of scope:\n got %s\nwant %s", strings.Join(got, ","), want)
	}
	if s := records.OutOfScope([]string{artifact.Path(rulesID)}, rulesID, nil, func(string) bool { return false }); len(s) != 0 {
		t.Fatalf("its own artifact is always in scope: %v", s)
	}
}
