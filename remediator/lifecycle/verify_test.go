package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/infratest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/verify"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// checker answers per remediation: verified, or the error its query would give.
type checker map[string]error

func (c checker) Check(_ context.Context, a *artifact.Artifact) (verify.Result, error) {
	if err := c[a.ID]; err != nil {
		return verify.Result{}, err
	}
	return verify.Result{Holds: true, Detail: "the triggering alert is no longer active"}, nil
}

func (c checker) Soaked(_ context.Context, _ *artifact.Artifact, _, _ time.Time) (verify.Result, error) {
	return verify.Result{Holds: true}, nil
}

// ciReports are the check reporters of an infratest.Work clone: its CI key's
// allowed-signers file and principal, as a Reconciler takes them.
func ciReports(t *testing.T, work string) (*signing.AllowedSigners, []string) {
	t.Helper()
	as, err := signing.LoadAllowedSigners(filepath.Join(work, ".git", "allowed_signers"))
	if err != nil {
		t.Fatal(err)
	}
	return as, []string{"ci@example.com"}
}

// reportCheck appends CI's signed report to HEAD's checks note in the clone.
func reportCheck(t *testing.T, work, name string, state forge.CheckState) {
	t.Helper()
	k, err := signing.LoadKey(filepath.Join(work, ".git", "ci_key"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := records.SignCheck(k, gittest.Run(t, work, "rev-parse", "HEAD"), name, state, "ci@example.com", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	gittest.Run(t, work, "notes", "--ref="+records.ChecksRef, "append", "-m", strings.TrimSpace(string(r.Entry())), "HEAD")
}

// mergeArtifact commits the artifact on remediation/<id> and merges it into main
// with the trailers, as a merged remediation is.
func mergeArtifact(t *testing.T, work string, a *artifact.Artifact) {
	t.Helper()
	data, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	gittest.Run(t, work, "checkout", "-q", "-b", "remediation/"+a.ID, "main")
	gittest.WriteFile(t, filepath.Join(work, artifact.Path(a.ID)), string(data))
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", "remediation "+a.ID)
	gittest.Run(t, work, "checkout", "-q", "main")
	gittest.Run(t, work, "merge", "-S", "-q", "--no-ff", "-m", fmt.Sprintf("Merge remediation %s\n\nRemediation-Id: %s\nRunbook: %s\n", a.ID, a.ID, a.Runbook), "remediation/"+a.ID)
}

// mergeRemediation commits a merged remediation (artifact, trailers) on main that
// CI reported applied.
func mergeRemediation(t *testing.T, work, id string) {
	t.Helper()
	mergeArtifact(t, work, &artifact.Artifact{ID: id, Runbook: "scale", Policy: "prod", Risk: "low", Rollback: "none",
		Verify: artifact.Verify{Within: "1h", AlertResolved: true, Soak: "0s"}})
	reportCheck(t, work, "terraform-apply", forge.CheckSuccess)
}

// One merge whose check fails (its query errors) holds up none of the others: they
// get their outcome, and the pass reports the failure at the end.
func TestVerificationOfOneMergeDoesNotBlockTheOthers(t *testing.T) {
	bare, work := infratest.Work(t)
	for _, id := range []string{"scale-aaaaaaaaaa", "scale-bbbbbbbbbb", "scale-cccccccccc"} {
		mergeRemediation(t, work, id)
	}
	gittest.Run(t, work, "push", "-q", "origin", "main", records.ChecksRef)
	ctx := context.Background()
	infra := infratest.Open(t, bare, infratest.Key(t, work))
	cat := &runbooks.Catalog{}
	signers, reporters := ciReports(t, work)
	r := &lifecycle.Reconciler{Infra: infra, Catalog: cat, Base: "main", AuthorName: "remediator", AuthorEmail: "r@localhost",
		Reviewers: signers, CheckReporters: reporters,
		Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Verifier: checker{"scale-bbbbbbbbbb": errors.New("query Prometheus: bad_data: parse error")}}
	out, err := r.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "verify scale-bbbbbbbbbb: query Prometheus") {
		t.Fatalf("pass error %v, want the one merge's", err)
	}
	var verified []string
	for _, o := range out {
		if o.Action == decision.Action(forge.OutcomeVerified) {
			verified = append(verified, o.ID)
		}
	}
	if strings.Join(verified, ",") != "scale-cccccccccc,scale-aaaaaaaaaa" {
		t.Fatalf("verified %v, want the two others (newest first)", verified)
	}
	for id, want := range map[string]bool{"scale-aaaaaaaaaa": true, "scale-bbbbbbbbbb": false, "scale-cccccccccc": true} {
		merge := gittest.Run(t, bare, "log", "--merges", "--format=%H", "--grep=Remediation-Id: "+id, "main")
		_, err := gittest.Output(bare, "notes", "--ref=remediation", "show", merge)
		if (err == nil) != want {
			t.Errorf("%s: outcome note present %v, want %v", id, err == nil, want)
		}
	}
}

// On the local forge, "applied" is CI's signed report: someone with push access who
// writes "success terraform-apply" into the checks note starts no verification, and
// the merge ends not-applied; CI's signed report starts it.
func TestAppliedOnlyWhenCIReportedIt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		report func(t *testing.T, work string)
		want   forge.Outcome
	}{
		{"written by hand", func(t *testing.T, work string) {
			gittest.Run(t, work, "notes", "--ref="+records.ChecksRef, "append", "-m", "success terraform-apply", "HEAD")
		}, forge.OutcomeNotApplied},
		{"signed by CI", func(t *testing.T, work string) { reportCheck(t, work, "terraform-apply", forge.CheckSuccess) }, forge.OutcomeVerified},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bare, work := infratest.Work(t)
			mergeArtifact(t, work, &artifact.Artifact{ID: "scale-aaaaaaaaaa", Runbook: "scale", Policy: "prod", Risk: "low", Rollback: "none",
				Verify: artifact.Verify{Within: "1h", AlertResolved: true, Soak: "0s", ApplyTimeout: "1h"}})
			tc.report(t, work)
			gittest.Run(t, work, "push", "-q", "origin", "main", records.ChecksRef)
			ctx := context.Background()
			infra := infratest.Open(t, bare, infratest.Key(t, work))
			signers, reporters := ciReports(t, work)
			later := time.Now().Add(2 * time.Hour)
			r := &lifecycle.Reconciler{Infra: infra, Catalog: &runbooks.Catalog{}, Base: "main", AuthorName: "remediator", AuthorEmail: "r@localhost",
				Reviewers: signers, CheckReporters: reporters, Now: func() time.Time { return later },
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Verifier: checker{}}
			out, err := r.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 || out[0].Action != decision.Action(tc.want) {
				t.Fatalf("outcome %+v, want %s", out, tc.want)
			}
			// What verification started on is sealed with its progress: CI's report, by hash.
			note, _ := gittest.Output(bare, "notes", "--ref="+records.ProgressRef, "show", "main")
			p := records.ReadProgress([]byte(note), plumbing.NewHash(gittest.Run(t, bare, "rev-parse", "main")), infratest.Key(t, work).Public())
			if started := len(p.DecidedOn) == 1 && strings.HasPrefix(p.DecidedOn[0], "check terraform-apply success by ci@example.com sha256:"); started != (tc.want == forge.OutcomeVerified) {
				t.Fatalf("progress decided on %q", p.DecidedOn)
			}
		})
	}
}

// The rule "dates are claims": a commit pushed on top of a merge with a date from
// long ago hides the merge from nobody; verification still judges it.
func TestRuleVerificationSeesThroughBackdatedCommits(t *testing.T) {
	bare, work := infratest.Work(t)
	mergeRemediation(t, work, "scale-aaaaaaaaaa")
	gittest.WriteFile(t, filepath.Join(work, "unrelated.txt"), "x\n")
	gittest.Run(t, work, "add", "-A")
	t.Setenv("GIT_COMMITTER_DATE", "2001-01-01T00:00:00Z")
	gittest.Run(t, work, "-c", "user.name=m", "commit", "-qm", "old news", "--date=2001-01-01T00:00:00Z")
	if got := gittest.Run(t, work, "log", "-1", "--format=%cI"); !strings.HasPrefix(got, "2001-") {
		t.Fatalf("committer date %s", got)
	}
	gittest.Run(t, work, "push", "-q", "origin", "main", records.ChecksRef)
	infra := infratest.Open(t, bare, infratest.Key(t, work))
	signers, reporters := ciReports(t, work)
	r := &lifecycle.Reconciler{Infra: infra, Catalog: &runbooks.Catalog{}, Base: "main", AuthorName: "remediator", AuthorEmail: "r@localhost",
		Reviewers: signers, CheckReporters: reporters,
		Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Verifier: checker{}}
	out, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Action != decision.Action(forge.OutcomeVerified) {
		t.Fatalf("outcomes %+v, want the merge beneath the back-dated commit verified", out)
	}
}
