package records_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/infratest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// TestRuleLocalChecksAreTheChecksNotesCountedReports: on the local forge a commit's
// checks are its checks note as CheckTrust counts it, read from the infrastructure
// repository: CI's signed report counts, a line written by hand beside it does not,
// and a commit nobody reported on has no checks. (The engine's end-to-end tests in
// lifecycle reach the same path; this keeps it covered by the records' own tests.)
func TestRuleLocalChecksAreTheChecksNotesCountedReports(t *testing.T) {
	bare, work := infratest.Work(t)
	head := gittest.Run(t, work, "rev-parse", "HEAD")
	ci, err := signing.LoadKey(filepath.Join(work, ".git", "ci_key"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := records.SignCheck(ci, head, "terraform-apply", forge.CheckSuccess, "ci@example.com", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	gittest.Run(t, work, "notes", "--ref="+records.ChecksRef, "add", "-m", strings.TrimSpace(string(r.Entry()))+"\nsuccess terraform-plan", "HEAD")
	gittest.Run(t, work, "push", "-q", "origin", "main", records.ChecksRef)
	as, err := signing.LoadAllowedSigners(filepath.Join(work, ".git", "allowed_signers"))
	if err != nil {
		t.Fatal(err)
	}
	facts := records.NewLocalFacts(infratest.Open(t, bare, nil), nil, records.CheckTrust{Signers: as, Reporters: []string{"ci@example.com"}, Now: time.Now()})

	states, err := facts.Checks(context.Background(), head)
	if err != nil || len(states) != 1 || states["terraform-apply"] != forge.CheckSuccess {
		t.Fatalf("checks of the reported head: %v, %v; want terraform-apply success only (the hand-written line counts for nothing)", states, err)
	}
	states, err = facts.Checks(context.Background(), strings.Repeat("a", 40))
	if err != nil || len(states) != 0 {
		t.Fatalf("checks of a commit nobody reported on: %v, %v; want none", states, err)
	}
}
