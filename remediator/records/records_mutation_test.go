package records_test

// The rules of a runbook version's track record (remediator/TRUST.md: autonomy is
// earned, per version, from the outcomes the remediator sealed), on a history whose
// commits are written in-process: fast enough for mutation testing (make mutation),
// which runs the package's tests once a mutant; the end-to-end record tests
// (record_test.go) drive git and take tens of seconds.

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/infratest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// recordsNow is the clock of the records read; the merges are hours before it.
var recordsNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func storeObject(t *testing.T, st storage.Storer, o interface {
	Encode(plumbing.EncodedObject) error
}) plumbing.Hash {
	t.Helper()
	obj := st.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		t.Fatal(err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func storeBlob(t *testing.T, st storage.Storer, data []byte) plumbing.Hash {
	t.Helper()
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// recordsHistory writes, into a bare repository, a main whose first-parent line holds
// one merge per entry, oldest first, an hour apart and ending at recordsNow: "<runbook> <version> <outcome> [how]" (outcome verified, failed,
// not-applied or pending). The remediator signs each merge and seals its outcome
// note, unless how says: "hand" (an unsigned merge with the same trailers),
// "unsealed" (its note written by a person), "rollback" (the remediator's rollback of
// the previous entry), "old" (merged beyond the verification horizon), "reverted"
// (an operator's revert of it pushed on the base right after), "deleted" (its
// sealed outcome says a sealed record of its verification was deleted). It returns
// the mirror and the merges' times.
func recordsHistory(t *testing.T, key *signing.Key, entries ...string) (records.History, []time.Time) {
	t.Helper()
	bare := t.TempDir()
	repo, err := git.PlainInit(bare, true)
	if err != nil {
		t.Fatal(err)
	}
	st := repo.Storer
	tree := storeObject(t, st, &object.Tree{})
	at := recordsNow.Add(-time.Duration(len(entries)) * time.Hour)
	sig := func(when time.Time) object.Signature {
		return object.Signature{Name: "remediator", Email: "remediator@localhost", When: when}
	}
	root := storeObject(t, st, &object.Commit{Author: sig(at), Committer: sig(at), Message: "initial\n", TreeHash: tree})
	tip := root
	var times []time.Time
	notes := map[string]plumbing.Hash{}
	for i, e := range entries {
		f := append(strings.Fields(e), "")
		runbook, version, outcome, how := f[0], f[1], f[2], f[3]
		at = at.Add(time.Hour)
		when := at
		if how == "old" {
			when = recordsNow.Add(-8*24*time.Hour + time.Duration(i)*time.Minute)
		}
		times = append(times, when)
		id := fmt.Sprintf("%s-%010d", runbook, i)
		if how == "rollback" {
			id = fmt.Sprintf("%s-%010d%s", runbook, i-1, "-rollback")
		}
		side := storeObject(t, st, &object.Commit{Author: sig(when), Committer: sig(when), TreeHash: tree, ParentHashes: []plumbing.Hash{tip},
			Message: "remediation\n\nRemediation-Id: " + id + "\n"})
		m := &object.Commit{Author: sig(when), Committer: sig(when), TreeHash: tree, ParentHashes: []plumbing.Hash{tip, side},
			Message: fmt.Sprintf("Merge remediation %s\n\nRemediation-Id: %s\nRunbook: %s\nRunbook-Version: %s\n", id, id, runbook, version)}
		if how != "hand" {
			if err := signing.SignCommit(m, key); err != nil {
				t.Fatal(err)
			}
		}
		tip = storeObject(t, st, m)
		merged := tip
		if how == "reverted" {
			// An operator's `git revert -m 1` of the merge, pushed on the base.
			tip = storeObject(t, st, &object.Commit{Author: sig(when), Committer: sig(when), TreeHash: tree, ParentHashes: []plumbing.Hash{tip},
				Message: fmt.Sprintf("Revert \"Merge remediation %s\"\n\nThis reverts commit %s.\n", id, merged)})
		}
		if outcome == "pending" {
			continue
		}
		note := []byte("outcome: " + outcome + "\nchecked_at: " + when.Add(30*time.Minute).Format(time.RFC3339) + "\n")
		if how == "deleted" {
			note = append(note, records.RecordDeletedLine+": true\n"...)
		}
		if how != "unsealed" && how != "hand" {
			if note, err = records.Seal(key, records.KindOutcome, merged, string(note)); err != nil {
				t.Fatal(err)
			}
		}
		notes[merged.String()] = storeBlob(t, st, note)
	}
	var nt object.Tree
	for name, blob := range notes {
		nt.Entries = append(nt.Entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: blob})
	}
	sort.Slice(nt.Entries, func(i, j int) bool { return nt.Entries[i].Name < nt.Entries[j].Name })
	notesCommit := storeObject(t, st, &object.Commit{Author: sig(recordsNow), Committer: sig(recordsNow), Message: "notes\n", TreeHash: storeObject(t, st, &nt)})
	for ref, h := range map[string]plumbing.Hash{"refs/heads/main": tip, records.OutcomeRef: notesCommit} {
		if err := st.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(ref), h)); err != nil {
			t.Fatal(err)
		}
	}
	return records.History{Repo: infratest.Open(t, bare, nil), Base: "main", Remediator: key.Public(), Now: recordsNow}, times
}

// same compares two records, their times as instants.
func same(a, b records.Record) bool {
	for _, r := range []*records.Record{&a, &b} {
		r.LastFailure, r.LastUnaccounted, r.LastPending, r.LastRejected = r.LastFailure.UTC(), r.LastUnaccounted.UTC(), r.LastPending.UTC(), r.LastRejected.UTC()
	}
	return a == b
}

// Each counted outcome goes to its runbook version: verified, failed, not applied;
// the streak counts the verified since the version's newest failure; merges made by
// hand and rollbacks are no evidence, and a rollback that merged fails what it undid.
func TestRuleRecordCountsEachSealedOutcomeOfTheVersion(t *testing.T) {
	key := remediatorKey(t)
	h, times := recordsHistory(t, key,
		"web A verified", // 0
		"web A failed",   // 1
		"web A failed",   // 2: the newest failure of A
		"web A verified", // 3
		"web A not-applied",
		"web A verified",      // 5
		"web B verified",      // 6: another version
		"db A verified",       // 7: another runbook
		"web A verified hand", // 8: by hand, no evidence
		"web C verified",      // 9
		"web C verified rollback",
	)
	all, err := h.AllRecords()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		runbook, version string
		want             records.Record
	}{
		{"web", "A", records.Record{Verified: 3, Failed: 2, NotApplied: 1, Streak: 2, LastFailure: times[2]}},
		{"web", "B", records.Record{Verified: 1, Streak: 1}},
		{"db", "A", records.Record{Verified: 1, Streak: 1}},
		{"web", "C", records.Record{Failed: 1, LastFailure: times[9]}},
		{"web", "D", records.Record{}},
	} {
		tc.want.Runbook, tc.want.Version = tc.runbook, tc.version
		one, err := h.RecordOf(tc.runbook, tc.version)
		if err != nil {
			t.Fatal(err)
		}
		if !same(one, tc.want) {
			t.Errorf("%s %s:\n got %+v\nwant %+v", tc.runbook, tc.version, one, tc.want)
		}
		if got := all.Of(tc.runbook, tc.version); !same(got, one) {
			t.Errorf("%s %s: one walk for all %+v, a walk for one %+v", tc.runbook, tc.version, got, one)
		}
	}
	if len(all) != 4 {
		t.Errorf("records of %d versions, want web A, web B, db A, web C", len(all))
	}
}

// A merge without a believable outcome (a note nobody sealed, none within the
// horizon) is unaccounted and breaks the streak; one still awaiting its outcome is
// pending and ends the streak too; the newest of each is remembered.
func TestRuleRecordUnaccountedAndPendingBreakTheStreak(t *testing.T) {
	key := remediatorKey(t)
	h, times := recordsHistory(t, key,
		"web A verified old",      // 0: beyond the horizon, sealed
		"web A pending old",       // 1: beyond the horizon, no outcome: unaccounted
		"web A verified",          // 2
		"web A verified unsealed", // 3: unaccounted (older)
		"web A verified",          // 4
		"web A verified unsealed", // 5: unaccounted, the newest
		"web A verified",          // 6
		"web B verified",          // 7
		"web B pending",           // 8: pending (older)
		"web B verified",          // 9
		"web B pending",           // 10: pending, the newest
		"web B failed",            // 11
	)
	a, err := h.RecordOf("web", "A")
	if err != nil {
		t.Fatal(err)
	}
	want := records.Record{Runbook: "web", Version: "A", Verified: 4, Streak: 1, Unaccounted: 3, LastUnaccounted: times[5]}
	if !same(a, want) {
		t.Errorf("web A:\n got %+v\nwant %+v", a, want)
	}
	b, err := h.RecordOf("web", "B")
	if err != nil {
		t.Fatal(err)
	}
	want = records.Record{Runbook: "web", Version: "B", Verified: 2, Failed: 1, Pending: 2, LastFailure: times[11]}
	if !same(b, want) {
		t.Errorf("web B:\n got %+v\nwant %+v", b, want)
	}

	h2, times2 := recordsHistory(t, key, "web A failed", "web A verified", "web A pending", "web A verified")
	c, err := h2.RecordOf("web", "A")
	if err != nil {
		t.Fatal(err)
	}
	want = records.Record{Runbook: "web", Version: "A", Verified: 2, Failed: 1, Pending: 1, Streak: 1, LastPending: times2[2]}
	if !same(c, want) {
		t.Errorf("a pending merge before the newest verified one:\n got %+v\nwant %+v", c, want)
	}
}

// An operator's revert of a merge is a rejection of its runbook version: counted
// whatever the outcome (which still counts), ending the streak unless the outcome
// was a failure (which ends it anyway, and is then the newest break); the newest
// rejection before any other break is remembered.
func TestRuleRecordCountsAnOperatorsRevertAsARejection(t *testing.T) {
	key := remediatorKey(t)
	h, times := recordsHistory(t, key,
		"web A verified",          // 0
		"web A verified reverted", // 1: rejected, the streak ends here
		"web A verified",          // 2
		"web B verified reverted", // 3: rejected, but after it a failure broke the streak
		"web B failed",            // 4
		"web C failed reverted",   // 5: a failure its operator also reverted
	)
	for _, tc := range []struct {
		version string
		want    records.Record
	}{
		{"A", records.Record{Verified: 3, Streak: 1, Rejected: 1, LastRejected: times[1]}},
		{"B", records.Record{Verified: 1, Failed: 1, Rejected: 1, LastFailure: times[4]}},
		{"C", records.Record{Failed: 1, Rejected: 1, LastFailure: times[5], LastRejected: times[5]}},
	} {
		tc.want.Runbook, tc.want.Version = "web", tc.version
		got, err := h.RecordOf("web", tc.version)
		if err != nil {
			t.Fatal(err)
		}
		if !same(got, tc.want) {
			t.Errorf("web %s:\n got %+v\nwant %+v", tc.version, got, tc.want)
		}
	}
}

// A merge whose sealed record of verification was deleted is unaccounted and counted
// as a deletion: the streak ends there, and a version with a deletion never earns
// autonomy, however many verified runs follow.
func TestRuleRecordADeletionNeverEarnsAutonomy(t *testing.T) {
	key := remediatorKey(t)
	h, times := recordsHistory(t, key,
		"web A verified",
		"web A failed deleted", // 1
		"web A verified",
		"web A verified",
	)
	got, err := h.RecordOf("web", "A")
	if err != nil {
		t.Fatal(err)
	}
	want := records.Record{Runbook: "web", Version: "A", Verified: 3, Streak: 2, Unaccounted: 1, Deleted: 1, LastUnaccounted: times[1]}
	if !same(got, want) {
		t.Fatalf("\n got %+v\nwant %+v", got, want)
	}
	if ok, why := got.Earned(runbooks.AutoMerge{MinVerifiedRuns: 1}); ok || !strings.Contains(why, "a deletion never earns autonomy") {
		t.Fatalf("earned %v: %s", ok, why)
	}
}
