package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// addOutcome merges one remediation of the runbook version into the infrastructure
// repository's main and records its outcome note, as a finished loop leaves them:
// the merge signed and the note sealed by the remediator of cfg.
func addOutcome(t *testing.T, cfg, infra, version, outcome string) {
	t.Helper()
	addMerge(t, cfg, infra, version, outcome, true)
}

// addMerge is addOutcome, or with byRemediator false what someone with push access
// could do: the same trailers on a merge of their own, an "outcome: ..." note.
func addMerge(t *testing.T, cfg, infra, version, outcome string, byRemediator bool) {
	t.Helper()
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", infra, work)
	gittest.Run(t, work, "config", "user.name", "t")
	gittest.Run(t, work, "config", "user.email", "t@localhost")
	_, _ = gittest.Output(work, "fetch", "-q", "origin", "refs/notes/remediation:refs/notes/remediation")
	n := strings.Count(gittest.Run(t, work, "log", "--merges", "--format=%H"), "\n")
	id := fmt.Sprintf("scale-out-api-%010d", n)
	gittest.Run(t, work, "checkout", "-q", "-b", "r", "main")
	gittest.WriteFile(t, filepath.Join(work, "runs", id), outcome)
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", "remediation "+id)
	gittest.Run(t, work, "checkout", "-q", "main")
	merge := []string{"merge", "-q", "--no-ff", "-m",
		fmt.Sprintf("Merge remediation %s\n\nRemediation-Id: %s\nRunbook: scale-out-api\nRunbook-Version: %s\n", id, id, version), "r"}
	if !byRemediator {
		gittest.Run(t, work, merge...)
		gittest.Run(t, work, "notes", "--ref=remediation", "add", "-m", "outcome: "+outcome, "HEAD")
	} else {
		asRemediator(t, cfg, work, merge...)
		sha := gittest.Run(t, work, "rev-parse", "HEAD")
		gittest.Run(t, work, "notes", "--ref=remediation", "add", "-F", sealedNote(t, cfg, records.KindOutcome, sha, "outcome: "+outcome), "HEAD")
	}
	gittest.Run(t, work, "push", "-q", "origin", "main", "refs/notes/remediation")
}

// Autonomy is earned per runbook version and lost on a failure, and `route` shows
// it: two verified runs of the published version let it auto-merge; a failure takes
// that away until two more; publishing a changed runbook starts from nothing.
func TestRouteShowsAutonomyEarnedPerVersion(t *testing.T) {
	cfg := publishedCatalogWith(t, func(_ *runbooks.Runbook, p *runbooks.Policy) {
		p.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 2}
	})
	infra := infraRepo(t, cfg)
	labels := "alertname=HighLatency,service=api-gateway,env=prod"
	route := func() routed {
		t.Helper()
		code, out, errs := cli(t, "route", "--config", cfg, "--labels", labels, "--value", "0.9", "--output", "json")
		if code != 0 {
			t.Fatalf("route: %d %s", code, errs)
		}
		var r routed
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.Autonomy == nil {
			t.Fatalf("route output %s: %v", out, err)
		}
		return r
	}
	expect := func(step string, may bool, streak int, why string) string {
		t.Helper()
		r := route()
		if r.Autonomy.MayAutoMerge != may || r.Autonomy.Record.Streak != streak || !strings.Contains(r.Autonomy.Reason, why) {
			t.Fatalf("%s: autonomy %+v, want may %v, streak %d, reason with %q", step, *r.Autonomy, may, streak, why)
		}
		return r.Autonomy.Record.Version
	}
	a := expect("new runbook", false, 0, "has 0 verified run(s) in a row, auto-merge needs 2")
	// Tried as someone with push access would: merges of their own with the
	// runbook's trailers and "outcome: verified" notes earn nothing.
	addMerge(t, cfg, infra, a, "verified", false)
	addMerge(t, cfg, infra, a, "not-applied", false)
	addMerge(t, cfg, infra, a, "verified", false)
	expect("merges and notes by hand", false, 0, "has 0 verified run(s) in a row, auto-merge needs 2")
	addOutcome(t, cfg, infra, a, "verified")
	expect("one verified", false, 1, "has 1 verified run(s) in a row")
	addOutcome(t, cfg, infra, a, "not-applied")
	addOutcome(t, cfg, infra, a, "verified")
	expect("two verified (a change never applied between them)", true, 2, "")
	if _, out, _ := cli(t, "route", "--config", cfg, "--labels", labels, "--value", "0.9"); !strings.Contains(out, "auto-merge: yes, earned") ||
		!strings.Contains(out, "record of version "+a+": 2 verified in a row; 2 verified, 0 failed, 1 not applied, 0 pending") {
		t.Fatalf("route text:\n%s", out)
	}
	addOutcome(t, cfg, infra, a, "failed")
	expect("a failure", false, 0, "(counted since its failure merged at ")
	addOutcome(t, cfg, infra, a, "verified")
	addOutcome(t, cfg, infra, a, "verified")
	expect("earned again", true, 2, "")

	// Publish version B: a changed runbook earns its autonomy from nothing.
	store, err := catalogstore.Open(context.Background(), catalogstore.Options{Repository: filepath.Join(filepath.Dir(cfg), "catalog.git")})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := store.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := snap.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	rb := cat.Runbook("scale-out-api")
	rb.Spec.Changes[0].Value = "math.least(current + 2, 20)"
	if _, err := store.Put(context.Background(), rb); err != nil {
		t.Fatal(err)
	}
	if b := expect("version B", false, 0, "has 0 verified run(s) in a row"); b == a {
		t.Fatalf("the changed runbook kept version %s", a)
	}
}
