package records_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// The rule "what the remediator saw is what it decided on": the evidence a merge
// names matches the notes word for word, and a note changed in any way no longer does.
func TestRuleDecidedOnNamesEachEntryByItsExactText(t *testing.T) {
	file := filepath.Join(t.TempDir(), "key")
	if err := signing.GenerateKeyFile(file); err != nil {
		t.Fatal(err)
	}
	k, err := signing.LoadKey(file)
	if err != nil {
		t.Fatal(err)
	}
	const commit = "0123456789012345678901234567890123456789"
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	a, err := records.Sign(k, commit, "alice@example.com", records.ViaSSH, at)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := records.SignCheck(k, commit, "plan-check", forge.CheckSuccess, "ci@example.com", at)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := records.SignCheck(k, commit, "plan-check", forge.CheckFailure, "ci@example.com", at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ev := records.Decided([]records.Approval{a, {Principal: "bob", Via: "github"}}, []records.CheckReport{ok})
	if len(ev) != 2 {
		t.Fatalf("evidence %v: want alice's signed approval and the report (a GitHub review has no note entry)", ev)
	}
	for _, line := range strings.Split(strings.TrimSpace(records.DecidedTrailers(ev)), "\n") {
		v, found := strings.CutPrefix(line, records.DecidedOnTrailer+": ")
		d, err := records.ParseDecidedOn(v)
		if !found || err != nil || d.String() != v {
			t.Fatalf("trailer %q read back as %+v, %v", line, d, err)
		}
	}
	cases := []struct {
		name            string
		approvals, chks []byte
		want            []string
	}{
		{"the notes as they were", a.Entry(), ok.Entry(), nil},
		{"a failure appended", a.Entry(), append(ok.Entry(), bad.Entry()...), nil},
		{"the report replaced by a failure", a.Entry(), bad.Entry(), []string{"check plan-check success by ci@example.com"}},
		{"the approval deleted", nil, ok.Entry(), []string{"approval alice@example.com"}},
		{"both gone", nil, nil, []string{"approval alice@example.com", "check plan-check success by ci@example.com"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := records.Unmatched(ev, tc.approvals, tc.chks)
			if len(got) != len(tc.want) {
				t.Fatalf("unmatched %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]+" (sha256:") {
					t.Fatalf("unmatched %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func FuzzParseDecidedOn(f *testing.F) {
	for _, s := range []string{
		"approval alice@example.com sha256:00",
		"check remediation/plan-check success by ci@example.com sha256:ab",
		"check  sha256:", "approval", "", "verdict x sha256:1", "approval a b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, err := records.ParseDecidedOn(v)
		if err != nil {
			return
		}
		again, err := records.ParseDecidedOn(d.String())
		if err != nil || again != d {
			t.Fatalf("%q read as %+v, which reads back as %+v, %v", v, d, again, err)
		}
	})
}
