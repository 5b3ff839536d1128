package audit

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// TestRuleEvidenceMissingOnlyWhereTheMergeNamesEvidence: a signed merge with
// approvals whose Decided-On names no approval, or cannot be read, is a finding; a
// signed merge with no Decided-On at all was made before the rule (its signature
// covers its message: nobody stripped them) and is none, so an upgrade does not turn
// every earlier merge into a finding.
func TestRuleEvidenceMissingOnlyWhereTheMergeNamesEvidence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "key")
	if err := signing.GenerateKeyFile(file); err != nil {
		t.Fatal(err)
	}
	key, err := signing.LoadKey(file)
	if err != nil {
		t.Fatal(err)
	}
	check := "check plan success by ci sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name      string
		decidedOn []string
		want      string // the finding's kind, "" for none
	}{
		{name: "made before the rule", want: ""},
		{name: "names checks but no approval", decidedOn: []string{check}, want: FindingEvidenceMissing},
		{name: "unreadable", decidedOn: []string{"approval alice"}, want: FindingEvidenceMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := object.Signature{Name: "remediator", Email: "r@localhost", When: time.Unix(1765000000, 0)}
			merge := &object.Commit{Author: sig, Committer: sig, Message: "merge\n"}
			if err := signing.SignCommit(merge, key); err != nil {
				t.Fatal(err)
			}
			e := &Entry{Approvers: []string{"alice"}, Head: strings.Repeat("c", 40), DecidedOn: tc.decidedOn}
			var got []string
			decided(merge, e, Trust{Remediator: key.Public()}, func(kind, _ string, _ ...any) { got = append(got, kind) })
			if tc.want == "" && len(got) > 0 || tc.want != "" && (len(got) == 0 || got[0] != tc.want) {
				t.Fatalf("findings %v, want %q", got, tc.want)
			}
		})
	}
}
