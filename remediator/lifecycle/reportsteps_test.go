package lifecycle_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/infratest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// serve's passes (ReportSteps) say where each merged remediation's verification
// stands, pass after pass, until its outcome is recorded: the status on GitHub
// shows the last pass, and a merge it did not mention would drop out of "being
// verified". Without ReportSteps a real pass says nothing until the outcome, and
// either way nothing is recorded before it.
func TestReportStepsSaysWhereAVerificationStands(t *testing.T) {
	gone := world{apply: forge.CheckSuccess, holds: true, soaked: true}
	for _, tc := range []struct {
		report bool
		want   []string // per pass: the action and a piece of its reason, "" nothing
	}{
		{true, []string{"verifying: waiting for check terraform-apply", "verifying: soaking since", "verified: held for the soak period"}},
		{false, []string{"", "", "verified: held for the soak period"}},
	} {
		bare, key, merged := oneMerge(t)
		infra := infratest.Open(t, bare, key)
		w := &world{}
		now := merged
		r := &lifecycle.Reconciler{Infra: infra, Catalog: &runbooks.Catalog{}, Base: "main", AuthorName: "remediator", AuthorEmail: "r@localhost",
			Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Verifier: worldChecker{w}, Facts: worldFacts{w}, ReportSteps: tc.report}
		for i, p := range []struct {
			after time.Duration
			world world
		}{{time.Minute, world{holds: true, soaked: true}}, {2 * time.Minute, gone}, {13 * time.Minute, gone}} {
			now, *w = merged.Add(p.after), p.world
			out, err := r.Run(context.Background())
			if err != nil {
				t.Fatalf("report %v, pass %d: %v", tc.report, i, err)
			}
			got := ""
			for _, o := range out {
				got = string(o.Action) + ": " + o.Reason
			}
			action, piece, _ := strings.Cut(tc.want[i], ": ")
			ok := got == ""
			if action != "" {
				ok = strings.HasPrefix(got, action+": ") && strings.Contains(got, piece)
			}
			if !ok {
				t.Fatalf("report %v, pass %d: %q, want %q", tc.report, i, got, tc.want[i])
			}
			if note := gittest.Run(t, bare, "notes", "--ref=remediation", "list"); i < 2 && note != "" {
				t.Fatalf("report %v, pass %d: an outcome was recorded before it was one: %s", tc.report, i, note)
			}
		}
	}
}
