package lifecycle_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/infratest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/verify"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// world is what the forge and monitoring say at one pass.
type world struct {
	apply  forge.CheckState // the applied check on the merge commit; "" not reported
	holds  bool             // the alert is gone and the query holds, now
	soaked bool             // ... and did at every step since the soak began
}

type worldChecker struct{ w *world }

func (c worldChecker) Check(context.Context, *artifact.Artifact) (verify.Result, error) {
	if c.w.holds {
		return verify.Result{Holds: true, Detail: "the triggering alert is no longer active"}, nil
	}
	return verify.Result{Detail: "1 matching alert(s) still active in Alertmanager"}, nil
}

func (c worldChecker) Soaked(context.Context, *artifact.Artifact, time.Time, time.Time) (verify.Result, error) {
	if c.w.soaked {
		return verify.Result{Holds: true}, nil
	}
	return verify.Result{Detail: "the alert fired again at 12:03"}, nil
}

type worldFacts struct{ w *world }

func (f worldFacts) Checks(context.Context, string) (map[string]forge.CheckState, error) {
	if f.w.apply == "" {
		return map[string]forge.CheckState{"plan": forge.CheckSuccess}, nil
	}
	return map[string]forge.CheckState{"terraform-apply": f.w.apply}, nil
}

func (worldFacts) TeamMember(context.Context, string, string) (bool, error) { return false, nil }

// A merged remediation is verified only once its change was reported applied and
// the anomaly then stayed gone for the whole soak period; a relapse fails it, and a
// change never applied is not-applied, whatever the alert did.
func TestVerifiedMeansAppliedThenSoaked(t *testing.T) {
	type pass struct {
		after time.Duration // since the merge
		world world
		want  forge.Outcome // "" keeps waiting
	}
	gone := world{apply: forge.CheckSuccess, holds: true, soaked: true}
	firing := world{apply: forge.CheckSuccess}
	for _, tc := range []struct {
		name   string
		passes []pass
		detail string
	}{
		{"resolved before applied waits for the apply, then the soak", []pass{
			{time.Minute, world{holds: true, soaked: true}, ""},
			{20 * time.Minute, world{holds: true, soaked: true}, ""},
			{21 * time.Minute, gone, ""},
			{30 * time.Minute, gone, ""},
			{31 * time.Minute, gone, forge.OutcomeVerified},
		}, "held for the soak period of 10m"},
		{"applied, resolves later, then soaks", []pass{
			{time.Minute, firing, ""},
			{5 * time.Minute, gone, ""},
			{14 * time.Minute, gone, ""},
			{15 * time.Minute, gone, forge.OutcomeVerified},
		}, "held for the soak period"},
		{"relapse seen at a pass inside the soak", []pass{
			{time.Minute, gone, ""},
			{6 * time.Minute, firing, forge.OutcomeFailed},
		}, "relapse during the soak period"},
		{"relapse between two passes, seen in the period's history", []pass{
			{time.Minute, gone, ""},
			{6 * time.Minute, world{apply: forge.CheckSuccess, holds: true}, forge.OutcomeFailed},
		}, "fired again"},
		{"applied but never resolved", []pass{
			{time.Minute, firing, ""},
			{15 * time.Minute, firing, ""},
			{16 * time.Minute, firing, forge.OutcomeFailed},
		}, "not resolved within 15m of being applied"},
		{"never applied, though the alert went", []pass{
			{30 * time.Minute, world{holds: true, soaked: true}, ""},
			{61 * time.Minute, world{holds: true, soaked: true}, forge.OutcomeNotApplied},
		}, "no check terraform-apply reported success on the merge commit within apply_timeout 1h"},
		{"the apply failed", []pass{
			{2 * time.Minute, world{apply: forge.CheckFailure, holds: true, soaked: true}, forge.OutcomeNotApplied},
		}, "the apply failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bare, key, merged := oneMerge(t)
			ctx := context.Background()
			infra := infratest.Open(t, bare, key)
			w := &world{}
			now := merged
			r := &lifecycle.Reconciler{Infra: infra, Catalog: &runbooks.Catalog{}, Base: "main", AuthorName: "remediator", AuthorEmail: "r@localhost",
				Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Verifier: worldChecker{w}, Facts: worldFacts{w}}
			for i, p := range tc.passes {
				now, *w = merged.Add(p.after), p.world
				out, err := r.Run(ctx)
				if err != nil {
					t.Fatalf("pass %d: %v", i, err)
				}
				var got forge.Outcome
				var detail string
				for _, o := range out {
					got, detail = forge.Outcome(o.Action), o.Reason
				}
				if got != p.want {
					t.Fatalf("pass %d (+%s): outcome %q (%s), want %q", i, p.after, got, detail, p.want)
				}
				if got != "" && !strings.Contains(detail, tc.detail) {
					t.Fatalf("pass %d: detail %q, want it to say %q", i, detail, tc.detail)
				}
			}
			note := gittest.Run(t, bare, "notes", "--ref=remediation", "show", "main")
			if !strings.Contains(note, "outcome: "+string(tc.passes[len(tc.passes)-1].want)) {
				t.Fatalf("outcome note:\n%s", note)
			}
		})
	}
}

// oneMerge makes an infrastructure repository with one merged remediation (soak 10m,
// apply_timeout 1h, within 15m, no rollback) and returns it with the remediator's key
// and the merge's time.
func oneMerge(t *testing.T) (string, *signing.Key, time.Time) {
	t.Helper()
	bare, work := infratest.Work(t)
	mergeArtifact(t, work, &artifact.Artifact{ID: "scale-aaaaaaaaaa", Runbook: "scale", Policy: "prod", Risk: "low", Rollback: "none",
		Verify: artifact.Verify{Within: "15m", AlertResolved: true, Soak: "10m", ApplyTimeout: "1h"}})
	gittest.Run(t, work, "push", "-q", "origin", "main")
	at, err := time.Parse(time.RFC3339, strings.TrimSpace(gittest.Run(t, work, "log", "-1", "--format=%cI")))
	if err != nil {
		t.Fatal(err)
	}
	return bare, infratest.Key(t, work), at
}

// Progress notes live in Git where anyone with push access can write them: whatever
// they hold, reading never fails, and what progress writes reads back the same.
func FuzzParseProgress(f *testing.F) {
	f.Add([]byte("applied_at: 2026-11-30T10:00:00.123456789Z\nresolved_since: 2026-11-30T10:05:00Z\n"))
	f.Add([]byte("applied_at: yesterday\n"))
	f.Add([]byte("resolved_since: 2026-11-30T10:05:00+02:00\napplied_at:2026-11-30T10:00:00Z"))
	f.Fuzz(func(t *testing.T, note []byte) {
		p := records.ParseProgress(note)
		again := records.ParseProgress([]byte(p.Text()))
		if !again.AppliedAt.Equal(p.AppliedAt) || !again.ResolvedSince.Equal(p.ResolvedSince) {
			t.Fatalf("%q read %+v, written and read again %+v", note, p, again)
		}
	})
}

// Verification believes only what the remediator wrote, tried as someone with push
// access would: a merge made by hand is never verified (so it can never earn its
// runbook anything); a forged progress note ("applied an hour ago, gone since") does
// not skip the wait for the apply; and a forged outcome note on the remediator's
// merge is replaced by the outcome the remediator finds and seals.
func TestVerificationBelievesOnlyItsOwnRecords(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, bare string, key *signing.Key, now time.Time, w world) ([]lifecycle.Result, *infrarepo.Repo) {
		t.Helper()
		infra := infratest.Open(t, bare, key)
		r := &lifecycle.Reconciler{Infra: infra, Catalog: &runbooks.Catalog{}, Base: "main", AuthorName: "remediator", AuthorEmail: "r@localhost",
			Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Verifier: worldChecker{&w}, Facts: worldFacts{&w}}
		out, err := r.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return out, infra
	}
	gone := world{apply: forge.CheckSuccess, holds: true, soaked: true}

	t.Run("a merge by hand", func(t *testing.T) {
		bare, work := infratest.Work(t)
		gittest.Run(t, work, "config", "gpg.format", "openpgp") // merge -S would fail: nobody signs
		a := &artifact.Artifact{ID: "scale-aaaaaaaaaa", Runbook: "scale", Policy: "prod", Risk: "low", Rollback: "none",
			Verify: artifact.Verify{Within: "15m", AlertResolved: true, Soak: "0s", ApplyTimeout: "1h"}}
		data, err := a.Encode()
		if err != nil {
			t.Fatal(err)
		}
		gittest.Run(t, work, "checkout", "-q", "-b", "remediation/"+a.ID)
		gittest.WriteFile(t, work+"/"+artifact.Path(a.ID), string(data))
		gittest.Run(t, work, "add", "-A")
		gittest.Run(t, work, "commit", "-qm", "remediation "+a.ID)
		gittest.Run(t, work, "checkout", "-q", "main")
		gittest.Run(t, work, "merge", "-q", "--no-ff", "-m", "Merge remediation "+a.ID+"\n\nRemediation-Id: "+a.ID+"\nRunbook: scale\n", "remediation/"+a.ID)
		gittest.Run(t, work, "push", "-q", "origin", "main")
		out, _ := run(t, bare, infratest.Key(t, work), time.Now().Add(time.Hour), gone)
		if len(out) != 0 {
			t.Fatalf("a merge by hand was verified: %+v", out)
		}
		if _, err := gittest.Output(bare, "notes", "--ref=remediation", "show", "main"); err == nil {
			t.Fatal("an outcome note was written for a merge by hand")
		}
	})

	t.Run("a forged progress note", func(t *testing.T) {
		bare, key, merged := oneMerge(t)
		work := t.TempDir()
		gittest.Run(t, "", "clone", "-q", bare, work)
		early := merged.Add(-time.Hour).UTC().Format(time.RFC3339Nano)
		gittest.Run(t, work, "notes", "--ref="+records.ProgressRef, "add", "-m", "applied_at: "+early+"\nresolved_since: "+early, "HEAD")
		gittest.Run(t, work, "push", "-q", "origin", records.ProgressRef)
		notApplied := gone
		notApplied.apply = ""
		if out, _ := run(t, bare, key, merged.Add(20*time.Minute), notApplied); len(out) != 0 {
			t.Fatalf("the forged progress was believed: %+v", out)
		}
		out, _ := run(t, bare, key, merged.Add(21*time.Minute), gone)
		if len(out) != 0 {
			t.Fatalf("verified without a soak after the apply: %+v", out)
		}
	})

	t.Run("a failure's notes deleted after its rollback was proposed", func(t *testing.T) {
		bare, work := infratest.Work(t)
		mergeArtifact(t, work, &artifact.Artifact{ID: "scale-aaaaaaaaaa", Runbook: "scale", Policy: "prod", Risk: "low", Rollback: "revert",
			Verify: artifact.Verify{Within: "15m", AlertResolved: true, Soak: "10m", ApplyTimeout: "1h"}})
		gittest.Run(t, work, "push", "-q", "origin", "main")
		merge := gittest.Run(t, work, "rev-parse", "HEAD")
		at, err := time.Parse(time.RFC3339, gittest.Run(t, work, "log", "-1", "--format=%cI"))
		if err != nil {
			t.Fatal(err)
		}
		key := infratest.Key(t, work)
		relapse := gone
		relapse.holds, relapse.soaked = false, false
		run(t, bare, key, at.Add(2*time.Minute), gone)
		if out, _ := run(t, bare, key, at.Add(5*time.Minute), relapse); len(out) != 1 || out[0].Action != decision.Action(forge.OutcomeFailed) {
			t.Fatalf("relapse: %+v", out)
		}
		// Someone with push access removes the failure and the progress before it.
		gittest.Run(t, work, "fetch", "-q", "origin", "refs/notes/*:refs/notes/*")
		gittest.Run(t, work, "notes", "--ref=remediation", "remove", merge)
		gittest.Run(t, work, "notes", "--ref="+records.ProgressRef, "remove", merge)
		gittest.Run(t, work, "push", "-q", "origin", "refs/notes/remediation", records.ProgressRef)
		for _, after := range []time.Duration{30 * time.Minute, 41 * time.Minute} {
			out, _ := run(t, bare, key, at.Add(after), gone)
			for _, o := range out {
				if o.ID == "scale-aaaaaaaaaa" && o.Action != decision.Action(forge.OutcomeFailed) {
					t.Fatalf("judged again after its failure's notes were removed: %+v", o)
				}
			}
		}
		if note := gittest.Run(t, bare, "notes", "--ref=remediation", "show", merge); !strings.HasPrefix(note, "outcome: failed\n") {
			t.Fatalf("outcome note:\n%s", note)
		}
	})

	t.Run("a forged outcome note", func(t *testing.T) {
		bare, key, merged := oneMerge(t)
		work := t.TempDir()
		gittest.Run(t, "", "clone", "-q", bare, work)
		gittest.Run(t, work, "notes", "--ref=remediation", "add", "-m", "outcome: verified", "HEAD")
		gittest.Run(t, work, "push", "-q", "origin", "refs/notes/remediation")
		relapse := gone
		relapse.holds, relapse.soaked = false, false
		if out, _ := run(t, bare, key, merged.Add(2*time.Minute), gone); len(out) != 0 {
			t.Fatalf("the forged outcome stood, or the soak was skipped: %+v", out)
		}
		out, infra := run(t, bare, key, merged.Add(5*time.Minute), relapse)
		if len(out) != 1 || out[0].Action != decision.Action(forge.OutcomeFailed) {
			t.Fatalf("the remediator did not judge its merge itself: %+v", out)
		}
		m, err := infra.Commit(plumbing.NewHash(out[0].Merge))
		if err != nil {
			t.Fatal(err)
		}
		note, _, _ := infra.Note(records.OutcomeRef, m.Hash)
		if ev := records.ReadOutcome(note, m.Hash, key.Public()); ev.Outcome != forge.OutcomeFailed {
			t.Fatalf("outcome note after the pass: %+v\n%s", ev, note)
		}
	})
}
