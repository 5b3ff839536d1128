package records_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/infratest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// A check report CI records lands in the commit's checks note after those before it
// (a second report never replaces the first: Count decides between them), and a
// report that cannot be pushed is an error naming the check, so CI's step fails
// instead of a green run that reported nothing.
func TestRuleRecordCheckAppendsAndSaysWhichFailed(t *testing.T) {
	bare, work := infratest.Work(t)
	gittest.Run(t, work, "push", "-q", "origin", "main")
	sha := plumbing.NewHash(gittest.Run(t, work, "rev-parse", "HEAD"))
	infra := infratest.Open(t, bare, infratest.Key(t, work))
	ci, err := signing.LoadKey(work + "/.git/ci_key")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	by := object.Signature{Name: "ci", Email: "ci@example.com", When: at}
	for i, state := range []forge.CheckState{forge.CheckFailure, forge.CheckSuccess} {
		r, err := records.SignCheck(ci, sha.String(), "terraform-apply", state, "ci@example.com", at.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if err := records.RecordCheck(context.Background(), infra, sha, r, by); err != nil {
			t.Fatalf("record %s: %v", state, err)
		}
	}
	note := gittest.Run(t, bare, "notes", "--ref="+records.ChecksRef, "show", sha.String())
	reports := records.ParseChecks([]byte(note))
	if len(reports) != 2 || reports[0].State != forge.CheckFailure || reports[1].State != forge.CheckSuccess {
		t.Fatalf("checks note after two reports: %q", note)
	}

	if err := os.RemoveAll(bare); err != nil {
		t.Fatal(err)
	}
	r, err := records.SignCheck(ci, sha.String(), "terraform-plan", forge.CheckSuccess, "ci@example.com", at)
	if err != nil {
		t.Fatal(err)
	}
	err = records.RecordCheck(context.Background(), infra, sha, r, by)
	if err == nil || !strings.Contains(err.Error(), "record check terraform-plan") {
		t.Fatalf("a report with no repository to push to: %v", err)
	}
}
