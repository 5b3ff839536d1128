package audit

// The audit's rules (remediator/TRUST.md: "Git history is the audit record"), one
// test each, on a history of a few commits that git fast-import writes in one go:
// fast enough for mutation testing (make mutation), which runs them once a mutant.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// ruleT0 is the first commit's time; every other is an offset from it.
var ruleT0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

// importer writes a git fast-import stream.
type importer struct {
	w    *bufio.Writer
	mark int
}

func (im *importer) data(s string) { fmt.Fprintf(im.w, "data %d\n%s\n", len(s), s) }

// commit writes a commit on ref at ruleT0+at seconds and returns its mark; files are
// path, content pairs; from and merge are marks or commit-ishes ("" for none).
func (im *importer) commit(ref, who string, at int, msg, from, merge string, files ...string) string {
	im.mark++
	fmt.Fprintf(im.w, "commit %s\nmark :%d\nauthor %s <%s@localhost> %d +0000\ncommitter %s <%s@localhost> %d +0000\n",
		ref, im.mark, who, who, ruleT0.Unix()+int64(at), who, who, ruleT0.Unix()+int64(at))
	im.data(msg)
	if from != "" {
		fmt.Fprintf(im.w, "from %s\n", from)
	}
	if merge != "" {
		fmt.Fprintf(im.w, "merge %s\n", merge)
	}
	for i := 0; i+1 < len(files); i += 2 {
		fmt.Fprintf(im.w, "M 100644 inline %s\n", files[i])
		im.data(files[i+1])
	}
	return fmt.Sprintf(":%d", im.mark)
}

// fastImport runs git fast-import in repo with the stream write writes.
func fastImport(t *testing.T, repo string, write func(im *importer)) {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), "git", "fast-import", "--quiet")
	cmd.Dir = repo
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	im := &importer{w: bufio.NewWriter(in)}
	write(im)
	if err := im.w.Flush(); err != nil {
		t.Fatal(err)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("fast-import: %v %s", err, stderr.String())
	}
}

// ruleArtifact is an artifact that records one change to envs/svc.tfvars, verified within, that
// requires so many approvals and reverts the given merge ("" for none).
func ruleArtifact(id, within, reverts string, required int) string {
	rev := ""
	if reverts != "" {
		rev = "reverts:\n  - commit: " + reverts + "\n    subject: x\n"
	}
	return "apiVersion: remediation.gitops.dev/v1\nkind: Remediation\nid: " + id + "\nrunbook: scale\nrunbook_version: abc\npolicy: prod\nrisk: low\nrequired_approvals: " + fmt.Sprint(required) + "\ntarget: svc\n" +
		"anomaly:\n  fingerprint: f\n  source: alertmanager\n  status: firing\n  starts_at: \"2026-11-01T09:59:00Z\"\n  value: 1\n  labels: {service: svc, alertname: HighLatency}\n" +
		"changes:\n  - file: envs/svc.tfvars\n    path: replicas\n    from: \"1\"\n    to: \"2\"\n" + rev +
		"expected_outcome: x\nplan_limits:\n  runbook_allows_destroy: false\n  policy_allows_destroy: false\nverify:\n  within: " + within + "\n  alert_resolved: true\nrollback: revert\nmerge:\n  allowed: true\nproposed_at: \"\"\n"
}

func mergeMsg(id string, approvers ...string) string {
	msg := "Merge remediation " + id + "\n\nremediation(scale): replicas\n\nRemediation-Id: " + id +
		"\nRunbook: scale\nRunbook-Version: abc\nPolicy: prod\nRisk: low\nAnomaly-Fingerprint: f\n"
	for _, a := range approvers {
		msg += "Approved-by: " + a + "\n"
	}
	return msg
}

// ruleHistory is the base branch main of a small infrastructure repository:
//
//	root (0s)
//	r1: head by the remediator (60s), merged at 120s with four Approved-by trailers; its
//	    merge also changes other.txt and .github/workflows/ci.yml, which r1's artifact
//	    does not record; no outcome, verify within 15m
//	"edit the record by hand" (180s): changes .remediations/r1.yaml
//	"backdated" (100s): dated before its parent
//	r2 (2000s): reverts r1's merge; outcome note "verified"
//	r3 (3000s): verify within 1h, no outcome
//
// Approvals on r1's head: alice's (listed) and bob's (a key not listed for him).
type ruleHistory struct {
	repo            string
	merge1, head1   string
	merge2, merge3  string
	edit, backdated string
	alice           *signing.Key
	reviewers       *signing.AllowedSigners
}

func newRuleHistory(t *testing.T) *ruleHistory {
	t.Helper()
	h := &ruleHistory{repo: filepath.Join(t.TempDir(), "infra.git")}
	gittest.Run(t, "", "init", "-q", "--bare", "--initial-branch=main", h.repo)
	fastImport(t, h.repo, func(im *importer) {
		root := im.commit("refs/heads/main", "dev", 0, "root\n", "", "", "envs/svc.tfvars", "replicas = 1\n")
		head := im.commit("refs/heads/remediation/r1", "remediator", 60, "remediation(scale): replicas\n\nRemediation-Id: r1\n", root, "",
			"envs/svc.tfvars", "replicas = 2\n", ".remediations/r1.yaml", ruleArtifact("r1", "15m", "", 2))
		im.commit("refs/heads/main", "remediator", 120,
			mergeMsg("r1", "alice@example.com", "Alice@Example.com", "mallory@example.com", "bob@example.com"), root, head,
			"envs/svc.tfvars", "replicas = 2\n", ".remediations/r1.yaml", ruleArtifact("r1", "15m", "", 2),
			"other.txt", "x\n", ".github/workflows/ci.yml", "on: push\n")
		im.commit("refs/heads/main", "dev", 180, "edit the record by hand\n", "", "", ".remediations/r1.yaml", "id: changed\n")
		im.commit("refs/heads/main", "dev", 100, "backdated\n", "", "", "README", "x\n")
	})
	rev := func(r string) string { return gittest.Run(t, h.repo, "rev-parse", r) }
	h.merge1, h.head1 = rev("main~2"), rev("main~2^2")
	h.edit, h.backdated = rev("main~1"), rev("main")

	fastImport(t, h.repo, func(im *importer) {
		head2 := im.commit("refs/heads/remediation/r2", "remediator", 1900, "revert\n\nRemediation-Id: r2\n", "refs/heads/main^0", "",
			".remediations/r2.yaml", ruleArtifact("r2", "15m", h.merge1, 0))
		merge2 := im.commit("refs/heads/main", "remediator", 2000, mergeMsg("r2"), "refs/heads/main^0", head2,
			".remediations/r2.yaml", ruleArtifact("r2", "15m", h.merge1, 0))
		head3 := im.commit("refs/heads/remediation/r3", "remediator", 2900, "again\n\nRemediation-Id: r3\n", merge2, "",
			".remediations/r3.yaml", ruleArtifact("r3", "1h", "", 0))
		im.commit("refs/heads/main", "remediator", 3000, mergeMsg("r3"), merge2, head3,
			".remediations/r3.yaml", ruleArtifact("r3", "1h", "", 0))
	})
	h.merge2, h.merge3 = rev("main~1"), rev("main")

	// Keys: alice's is listed for her; bob signs with a key listed for nobody.
	dir := t.TempDir()
	key := func(name string) (*signing.Key, string) {
		f := filepath.Join(dir, name)
		if err := signing.GenerateKeyFile(f); err != nil {
			t.Fatal(err)
		}
		k, err := signing.LoadKey(f)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := os.ReadFile(f + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		return k, strings.TrimSpace(string(pub))
	}
	var alicePub string
	h.alice, alicePub = key("alice")
	bob, _ := key("bob")
	as, err := signing.ParseAllowedSigners("allowed_signers", []byte("alice@example.com "+alicePub+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	h.reviewers = as
	var note []byte
	for _, s := range []struct {
		k   *signing.Key
		who string
	}{{h.alice, "alice@example.com"}, {bob, "bob@example.com"}} {
		a, err := records.Sign(s.k, h.head1, s.who, records.ViaSSH, ruleT0.Add(90*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		note = records.AddApproval(note, a)
	}
	// The approvals note fanned out (as git does for many notes), the outcome note flat.
	fastImport(t, h.repo, func(im *importer) {
		im.commit("refs/notes/remediation-approvals", "remediator", 3100, "approvals\n", "", "",
			h.head1[:2]+"/"+h.head1[2:], string(note))
		im.commit(records.OutcomeRef, "remediator", 3100, "outcomes\n", "", "",
			h.merge2, "outcome: verified\nchecked_at: 2026-11-01T10:40:00Z\n")
	})
	return h
}

// build is the ledger of main as `audit` reads it at now (seconds after ruleT0).
func (h *ruleHistory) build(t *testing.T, since Since, now int) *Ledger {
	t.Helper()
	repo, err := git.PlainOpen(h.repo)
	if err != nil {
		t.Fatal(err)
	}
	l, err := BuildSince(repo, nil, "main", since, ruleT0.Add(time.Duration(now)*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func findings(fs []Finding, kind string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// Every remediation merge of the base's first-parent line is an entry, newest first,
// with what its trailers, artifact and notes say.
func TestRuleLedgerEntriesFromMergesTrailersAndArtifacts(t *testing.T) {
	h := newRuleHistory(t)
	l := h.build(t, Since{}, 2100)
	var ids []string
	for _, e := range l.Entries {
		ids = append(ids, e.ID)
	}
	if got := strings.Join(ids, ","); got != "r3,r2,r1" {
		t.Fatalf("entries %s, want r3,r2,r1 (every remediation merge, newest first)", got)
	}
	r1 := l.Entries[2]
	want := Entry{ID: "r1", Runbook: "scale", RunbookVersion: "abc", Policy: "prod", Risk: "low", Fingerprint: "f",
		Anomaly: "alertname=HighLatency,service=svc", RequiredApprovals: 2, MergedBy: "remediator",
		Merge: h.merge1, Head: h.head1, Rollback: "r2", Outcome: OutcomeMissing}
	got := Entry{ID: r1.ID, Runbook: r1.Runbook, RunbookVersion: r1.RunbookVersion, Policy: r1.Policy, Risk: r1.Risk,
		Fingerprint: r1.Fingerprint, Anomaly: r1.Anomaly, RequiredApprovals: r1.RequiredApprovals, MergedBy: r1.MergedBy,
		Merge: r1.Merge, Head: r1.Head, Rollback: r1.Rollback, Outcome: r1.Outcome}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("r1's entry:\n got %+v\nwant %+v", got, want)
	}
	if !r1.MergedAt.Equal(ruleT0.Add(120*time.Second)) || r1.within != 15*time.Minute {
		t.Fatalf("r1 merged at %s within %s, want %s within 15m", r1.MergedAt, r1.within, ruleT0.Add(120*time.Second))
	}
	if got := strings.Join(r1.Approvers, ","); got != "alice@example.com,Alice@Example.com,mallory@example.com,bob@example.com" {
		t.Fatalf("r1's Approved-by trailers, in order: %s", got)
	}
	if len(r1.noteApps) != 2 || r1.headAuth != [2]string{"remediator", "remediator@localhost"} {
		t.Fatalf("r1's head: %d approvals read from the fanned-out note, author %v", len(r1.noteApps), r1.headAuth)
	}
	if l.Entries[1].Outcome != "verified" || l.Entries[1].Rollback != "" || l.Entries[1].RequiredApprovals != 0 {
		t.Fatalf("r2: outcome %q (the note says verified), rollback %q", l.Entries[1].Outcome, l.Entries[1].Rollback)
	}
	if tt := l.Entries[1].TimeTo; tt == nil || tt.Verify == nil || *tt.Verify != 41*60 || *tt.Merge != 60+2000 {
		t.Fatalf("r2's time to remediate from its anomaly at 09:59: %+v, want merged after 34m20s, verified after 41m", tt)
	}
	if tt := r1.TimeTo; tt == nil || tt.Verify != nil || *tt.Merge != 3*60 {
		t.Fatalf("r1's time to remediate: %+v, want merged after 3m, never verified", tt)
	}
	if l.Entries[0].Outcome != OutcomePending {
		t.Fatalf("r3, inside its hour: outcome %q, want pending", l.Entries[0].Outcome)
	}
	if l := h.build(t, Since{}, 3000+3600); l.Entries[0].Outcome != OutcomePending {
		t.Fatalf("r3 at the end of its hour: outcome %q, want still pending", l.Entries[0].Outcome)
	}
	if l := h.build(t, Since{}, 3000+3601); l.Entries[0].Outcome != OutcomeMissing {
		t.Fatalf("r3 after its hour: outcome %q, want missing", l.Entries[0].Outcome)
	}
}

// An artifact changed by any commit but its own merge is flagged, naming the commit;
// a commit dated before its parent is flagged (a date is a claim).
func TestRuleLedgerFlagsArtifactChangedOutsideItsMergeAndBackdating(t *testing.T) {
	h := newRuleHistory(t)
	l := h.build(t, Since{}, 2100)
	art := findings(l.Findings, FindingArtifact)
	if len(art) != 1 || art[0].Commit != h.edit || art[0].ID != "r1" ||
		!strings.Contains(art[0].Detail, `.remediations/r1.yaml changed by "edit the record by hand", not by the merge of proposal r1`) {
		t.Fatalf("artifact findings: %+v (want one: r1's record edited by %s)", art, h.edit[:12])
	}
	back := findings(l.Findings, FindingDateBeforeParent)
	if len(back) != 1 || back[0].Commit != h.backdated || !strings.Contains(back[0].Detail, "before its parent "+h.edit[:12]) {
		t.Fatalf("backdating findings: %+v (want one: %s)", back, h.backdated[:12])
	}
	if len(l.Findings) != 2 {
		t.Fatalf("findings: %+v, want only those two", l.Findings)
	}
}

// Without the remediator's key a walk back to a date stops at the first commit dated
// before it; with the key only at a merge the remediator signed, so an unsigned
// backdated commit hides nothing beneath it.
func TestRuleLedgerSinceStopsOnlyAtASignedMerge(t *testing.T) {
	h := newRuleHistory(t)
	since := ruleT0.Add(1500 * time.Second)
	if l := h.build(t, Since{At: since}, 2100); len(l.Entries) != 2 {
		t.Fatalf("without the key, since %s: %d entries, want 2 (stop at the backdated commit)", since, len(l.Entries))
	}
	if l := h.build(t, Since{At: since, Remediator: h.alice.Public()}, 2100); len(l.Entries) != 3 {
		t.Fatalf("with the key, since %s: %d entries, want 3 (no merge is signed: the walk goes on)", since, len(l.Entries))
	}
	if l := h.build(t, Since{At: ruleT0.Add(3000 * time.Second)}, 3100); len(l.Entries) != 1 {
		t.Fatalf("since r3's own time: %d entries, want r3 only (a commit at the time is inside)", len(l.Entries))
	}

	// r4, a merge the remediator signed at 4000s, then a commit at 4100s.
	h.signedMerge(t, h.alice, 4000)
	otherFile := filepath.Join(t.TempDir(), "other")
	if err := signing.GenerateKeyFile(otherFile); err != nil {
		t.Fatal(err)
	}
	other, err := signing.LoadKey(otherFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		since Since
		want  int
	}{
		{"the key, since after r4", Since{At: ruleT0.Add(4050 * time.Second), Remediator: h.alice.Public()}, 0},
		{"the key, since before r4", Since{At: ruleT0.Add(3500 * time.Second), Remediator: h.alice.Public()}, 4},
		{"another key, since after r4", Since{At: ruleT0.Add(4050 * time.Second), Remediator: other.Public()}, 4},
		{"no key, since before r4", Since{At: ruleT0.Add(3500 * time.Second)}, 1},
	} {
		if l := h.build(t, tc.since, 4200); len(l.Entries) != tc.want {
			t.Errorf("%s: %d entries, want %d", tc.name, len(l.Entries), tc.want)
		}
	}
}

// signedMerge adds to main a remediation merge r4 that key signs, at ruleT0+at
// seconds, and a commit after it.
func (h *ruleHistory) signedMerge(t *testing.T, key *signing.Key, at int) {
	t.Helper()
	repo, err := git.PlainOpen(h.repo)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := repo.Reference("refs/heads/main", true)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := repo.CommitObject(tip.Hash())
	if err != nil {
		t.Fatal(err)
	}
	store := func(c *object.Commit) plumbing.Hash {
		obj := repo.Storer.NewEncodedObject()
		if err := c.Encode(obj); err != nil {
			t.Fatal(err)
		}
		hash, err := repo.Storer.SetEncodedObject(obj)
		if err != nil {
			t.Fatal(err)
		}
		return hash
	}
	when := func(s int) object.Signature {
		return object.Signature{Name: "remediator", Email: "remediator@localhost", When: ruleT0.Add(time.Duration(s) * time.Second)}
	}
	m := &object.Commit{Author: when(at), Committer: when(at), Message: mergeMsg("r4"), TreeHash: parent.TreeHash,
		ParentHashes: []plumbing.Hash{parent.Hash, plumbing.NewHash(h.head1)}}
	if err := signing.SignCommit(m, key); err != nil {
		t.Fatal(err)
	}
	after := store(&object.Commit{Author: when(at + 100), Committer: when(at + 100), Message: "after\n", TreeHash: parent.TreeHash,
		ParentHashes: []plumbing.Hash{store(m)}})
	if err := repo.Storer.SetReference(plumbing.NewHashReference("refs/heads/main", after)); err != nil {
		t.Fatal(err)
	}
}

// A base that is no branch of the repository is an error naming it.
func TestRuleLedgerBaseMustExist(t *testing.T) {
	h := newRuleHistory(t)
	repo, err := git.PlainOpen(h.repo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(repo, nil, "trunk", time.Time{}, ruleT0); err == nil || !strings.Contains(err.Error(), `no branch "trunk"`) {
		t.Fatalf("base trunk: want refused naming it, got %v", err)
	}
	gittest.Run(t, h.repo, "update-ref", "refs/remotes/origin/release", "main~1")
	l, err := Build(repo, nil, "release", time.Time{}, ruleT0)
	if err != nil || len(l.Entries) != 2 {
		t.Fatalf("a remote-tracking base: %v, %d entries, want r2 and r1", err, len(l.Entries))
	}
}

// Verify: every Approved-by trailer must be backed by an approval that counts on the
// merged head, the merge needs as many as the artifact requires, it may change only
// the files its artifact records (never a protected path), and it needs an outcome.
func TestRuleVerifyApprovalsScopeAndOutcome(t *testing.T) {
	h := newRuleHistory(t)
	l := h.build(t, Since{}, 2100)
	repo, err := git.PlainOpen(h.repo)
	if err != nil {
		t.Fatal(err)
	}
	all := l.Verify(repo, Trust{Reviewers: h.reviewers})
	var r1 []string
	for _, f := range all {
		if f.ID == "r1" && f.Commit == h.merge1 {
			r1 = append(r1, f.Kind+": "+f.Detail)
		}
	}
	want := []string{
		"unbacked-approval: Approved-by mallory@example.com: no approval recorded on the proposal head " + h.head1[:12],
		"unbacked-approval: Approved-by bob@example.com: its approval on the proposal head " + h.head1[:12] + " does not count: signature not accepted",
		"out-of-scope: the merge changed .github/workflows/ci.yml, which is protected",
		"out-of-scope: the merge changed other.txt, which its artifact does not record",
		"too-few-approvals: merged with 1 valid approval(s); policy prod required 2 for risk low",
		"no-outcome: merged at 2026-11-01T10:02:00Z; no outcome recorded within 15m0s",
	}
	if len(r1) != len(want) {
		t.Fatalf("r1's findings:\n%s\nwant %d", strings.Join(r1, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(r1[i], w) {
			t.Errorf("finding %d:\n got %s\nwant %s…", i, r1[i], w)
		}
	}
	if got := len(all) - len(r1); got != 2 {
		t.Fatalf("%d findings besides r1's, want the ledger's two (r2 and r3 are in scope, pending or verified)", got)
	}
	// Enough approvals: no too-few finding.
	l.Entries[2].RequiredApprovals = 1
	for _, f := range verifyEntry(repo, &l.Entries[2], Trust{Reviewers: h.reviewers}) {
		if f.Kind == FindingApprovals {
			t.Fatalf("one approval required, one counted: %s", f)
		}
	}
}

// The approvals that count are the trailers backed by a counted approval: one per
// person however often the trailer repeats them, in any case.
func TestRuleVerifyBackedApprovalsCountOncePerPerson(t *testing.T) {
	h := newRuleHistory(t)
	l := h.build(t, Since{}, 2100)
	var extra []string
	valid := approvals(&l.Entries[2], Trust{Reviewers: h.reviewers}, func(kind, format string, args ...any) {
		extra = append(extra, kind)
	})
	if len(valid) != 1 || !valid[0].Is("alice@example.com") {
		t.Fatalf("valid approvals %v, want alice's once (her trailer twice, in two spellings)", valid)
	}
	if strings.Join(extra, ",") != "unbacked-approval,unbacked-approval" {
		t.Fatalf("findings %v, want mallory's and bob's trailers unbacked", extra)
	}
	// The head's author never approves: the same note, with alice as the author.
	e := l.Entries[2]
	e.headAuth = [2]string{"Alice", "alice@example.com"}
	extra = nil
	if valid := approvals(&e, Trust{Reviewers: h.reviewers}, func(kind, format string, args ...any) {
		extra = append(extra, fmt.Sprintf(format, args...))
	}); len(valid) != 0 || !strings.Contains(strings.Join(extra, "\n"), "Approved-by alice@example.com: its approval on the proposal head") {
		t.Fatalf("the head's author approving: valid %v, findings %v", valid, extra)
	}
}

// A required reviewer is met by an approval of theirs; a team of the local forge by
// one of its members; a GitHub team (no local membership) is GitHub's to enforce.
func TestRuleVerifyRequiredReviewer(t *testing.T) {
	counted := []records.Approval{{Principal: "alice@example.com"}, {Principal: "carol"}}
	teams := map[string][]string{"org/sre": {"dave", "Carol"}, "org/db": {"erin"}}
	for _, tc := range []struct {
		want string
		ok   bool
	}{
		{"alice@example.com", true},
		{"ALICE@example.com", true},
		{"bob@example.com", false},
		{"org/sre", true},
		{"org/db", false},
		{"org/github-only", true},
	} {
		if got := reviewed(tc.want, counted, teams); got != tc.ok {
			t.Errorf("required reviewer %s: met %v, want %v", tc.want, got, tc.ok)
		}
	}
	if got := strings.Join(distinct([]string{"a", "B", "A", "b", "c"}), ","); got != "a,B,c" {
		t.Errorf("distinct approvers %s, want a,B,c (case folded, first spelling kept)", got)
	}
}

// Trailers are the last paragraph, only when every line of it is "Key: value".
func TestRuleTrailersAreTheLastParagraph(t *testing.T) {
	for _, tc := range []struct{ name, msg, want string }{
		{"repeated keys in order", "subject\n\nbody\n\nRemediation-Id: r1\nApproved-by: a\nApproved-by: b\n", "Remediation-Id=r1;Approved-by=a;Approved-by=b"},
		{"only the last paragraph", "subject\n\nRemediation-Id: fake\n\nRunbook: scale\n", "Runbook=scale"},
		{"trailing blank lines", "subject\n\nRunbook: scale\n\n\n", "Runbook=scale"},
		{"a message that is one paragraph", "Remediation-Id: r1", "Remediation-Id=r1"},
		{"a message that starts with a blank line", "\n\nRemediation-Id: r1\n", "Remediation-Id=r1"},
		{"a prose line voids the block", "subject\n\nRemediation-Id: r1\nnot a trailer\n", ""},
		{"a key with a space", "subject\n\nRemediation Id: r1\n", ""},
		{"a key with a tab", "subject\n\nRemediation\tId: r1\n", ""},
		{"an empty key", "subject\n\n: r1\n", ""},
		{"a colon without a space", "subject\n\nRemediation-Id:r1\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, kv := range Trailers(tc.msg) {
				got = append(got, kv[0]+"="+kv[1])
			}
			if strings.Join(got, ";") != tc.want {
				t.Fatalf("trailers %q, want %q", strings.Join(got, ";"), tc.want)
			}
		})
	}
	tr := Trailers("s\n\nA: 1\nB: 2\nA: 3\n")
	if first(tr, "A") != "1" || first(tr, "C") != "" || strings.Join(all(tr, "A"), ",") != "1,3" || all(tr, "C") != nil {
		t.Fatalf("first A %q, all A %v", first(tr, "A"), all(tr, "A"))
	}
}

// A finding is one line: short commit, kind, id ("-" for none), detail.
func TestRuleFindingLine(t *testing.T) {
	f := Finding{Commit: strings.Repeat("a", 40), Kind: FindingScope, Detail: "d"}
	if got := f.String(); got != "aaaaaaaaaaaa out-of-scope -: d" {
		t.Fatalf("finding line %q", got)
	}
	f.ID = "r1"
	if got := f.String(); got != "aaaaaaaaaaaa out-of-scope r1: d" {
		t.Fatalf("finding line %q", got)
	}
}

// The ledger is the same whether the artifact trees are compared on the walk's own
// handle after the walk or by tree workers alongside it (TestLedgerIsTheSameHoweverItIsRead
// does this at scale, too slowly to run once a mutant).
func TestRuleLedgerSameWithTreeWorkers(t *testing.T) {
	h := newRuleHistory(t)
	read := func(workers int) string {
		t.Helper()
		repo, err := git.PlainOpen(h.repo)
		if err != nil {
			t.Fatal(err)
		}
		var trees []*git.Repository
		for range workers {
			r, err := git.PlainOpen(h.repo)
			if err != nil {
				t.Fatal(err)
			}
			trees = append(trees, r)
		}
		l, err := Build(repo, trees, "main", time.Time{}, ruleT0.Add(2100*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(struct {
			E []Entry
			F []Finding
		}{l.Entries, l.Findings})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	want := read(0)
	if !strings.Contains(want, "edit the record by hand") {
		t.Fatalf("the ledger without workers lacks the artifact finding:\n%s", want)
	}
	for _, workers := range []int{1, 2} {
		if got := read(workers); got != want {
			t.Errorf("with %d tree worker(s):\n%s\nwant\n%s", workers, got, want)
		}
	}
}

// A history with a commit missing (a shallow or damaged copy) is an error, never a
// shorter ledger that hides what lay beyond the gap.
func TestRuleLedgerRefusesAHistoryWithAGap(t *testing.T) {
	h := newRuleHistory(t)
	repo, err := git.PlainOpen(h.repo)
	if err != nil {
		t.Fatal(err)
	}
	sig := object.Signature{Name: "dev", Email: "dev@localhost", When: ruleT0.Add(5000 * time.Second)}
	c := &object.Commit{Author: sig, Committer: sig, Message: "after a gap\n", TreeHash: plumbing.NewHash(gittest.Run(t, h.repo, "rev-parse", "main^{tree}")),
		ParentHashes: []plumbing.Hash{plumbing.NewHash(strings.Repeat("ab", 20))}}
	obj := repo.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		t.Fatal(err)
	}
	tip, err := repo.Storer.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference("refs/heads/main", tip)); err != nil {
		t.Fatal(err)
	}
	if l, err := Build(repo, nil, "main", time.Time{}, ruleT0); err == nil {
		t.Fatalf("a history with a missing parent: a ledger of %d entries, want an error", len(l.Entries))
	}
}

// A merge may change its own artifact only: another proposal's artifact it carries
// is flagged like any other commit's change to it.
func TestRuleLedgerMergeChangesOnlyItsOwnArtifact(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "infra.git")
	gittest.Run(t, "", "init", "-q", "--bare", "--initial-branch=main", repo)
	fastImport(t, repo, func(im *importer) {
		root := im.commit("refs/heads/main", "dev", 0, "root\n", "", "", "envs/svc.tfvars", "replicas = 1\n")
		files := []string{".remediations/r5.yaml", ruleArtifact("r5", "15m", "", 0), ".remediations/zz-9.yaml", "id: zz-9\n"}
		head := im.commit("refs/heads/remediation/r5", "remediator", 60, "r5\n\nRemediation-Id: r5\n", root, "", files...)
		im.commit("refs/heads/main", "remediator", 120, mergeMsg("r5"), root, head, files...)
	})
	r, err := git.PlainOpen(repo)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Build(r, nil, "main", time.Time{}, ruleT0)
	if err != nil {
		t.Fatal(err)
	}
	art := findings(l.Findings, FindingArtifact)
	if len(art) != 1 || art[0].ID != "zz-9" || art[0].Commit != l.Entries[0].Merge {
		t.Fatalf("artifact findings %+v, want one: zz-9 changed by r5's merge", art)
	}
}

// Notes are read however git stored them: flat (a commit's full name), fanned out
// ("ab/cdef…", as git does for many notes) in any number of subdirectories, or both
// in one tree, a flat note after a subdirectory included.
func TestRuleLedgerReadsNotesFlatAndFannedOut(t *testing.T) {
	h := newRuleHistory(t)
	repo, err := git.PlainOpen(h.repo)
	if err != nil {
		t.Fatal(err)
	}
	outcome := map[string]string{h.merge1: "failed", h.merge2: "verified", h.merge3: "not-applied"}
	merges := []string{h.merge1, h.merge2, h.merge3}
	sort.Strings(merges)
	// The two first in name order fanned out, the last flat: a directory sorts as its
	// name and a slash, so the flat note comes after both subdirectories.
	notes := map[string]string{
		merges[0][:2] + "/" + merges[0][2:]: "outcome: " + outcome[merges[0]] + "\n",
		merges[1][:2] + "/" + merges[1][2:]: "outcome: " + outcome[merges[1]] + "\n",
		merges[2]:                           "outcome: " + outcome[merges[2]] + "\n",
	}
	objects{t: t, repo: repo}.notes(records.OutcomeRef, notes)
	if merges[0][:2] == merges[1][:2] {
		t.Fatalf("the fixture's merges %s and %s share a fan-out directory: the test needs two", merges[0], merges[1])
	}
	l := h.build(t, Since{}, 2100)
	for _, e := range l.Entries {
		if string(e.Outcome) != outcome[e.Merge] {
			t.Errorf("%s's outcome %q, want %q from its note", e.ID, e.Outcome, outcome[e.Merge])
		}
	}
}

// An artifact added or deleted by any commit but its own merge is flagged, however
// much of .remediations the commit adds or removes: the first artifact of all, or
// the whole directory at once.
func TestRuleLedgerFlagsArtifactsAddedOrDeletedByHand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "infra.git")
	gittest.Run(t, "", "init", "-q", "--bare", "--initial-branch=main", dir)
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := objects{t: t, repo: repo}
	svc := map[string]string{"envs/svc.tfvars": "replicas = 1\n"}
	with := func(files ...string) map[string]string {
		m := map[string]string{"envs/svc.tfvars": "replicas = 1\n"}
		for i := 0; i+1 < len(files); i += 2 {
			m[files[i]] = files[i+1]
		}
		return m
	}
	root := o.commit("dev", 0, "root\n", o.tree(svc), nil)
	added := o.commit("dev", 10, "add a record by hand\n", o.tree(with(".remediations/r9.yaml", "id: r9\n")), nil, root)
	both := with(".remediations/r9.yaml", "id: r9\n", ".remediations/r5.yaml", ruleArtifact("r5", "15m", "", 0))
	head := o.commit("remediator", 60, "r5\n\nRemediation-Id: r5\n", o.tree(both), nil, added)
	merge := o.commit("remediator", 120, mergeMsg("r5"), o.tree(both), nil, added, head)
	dropped := o.commit("dev", 180, "drop the records\n", o.tree(svc), nil, merge)
	o.ref("refs/heads/main", dropped)

	l, err := Build(repo, nil, "main", time.Time{}, ruleT0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings(l.Findings, FindingArtifact) {
		got = append(got, f.Commit[:12]+" "+f.ID+": "+f.Detail)
	}
	sort.Strings(got)
	want := []string{
		added.String()[:12] + ` r9: .remediations/r9.yaml changed by "add a record by hand", not by the merge of proposal r9`,
		dropped.String()[:12] + ` r5: .remediations/r5.yaml changed by "drop the records", not by the merge of proposal r5`,
		dropped.String()[:12] + ` r9: .remediations/r9.yaml changed by "drop the records", not by the merge of proposal r9`,
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("artifact findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(l.Entries) != 1 || l.Entries[0].art == nil || l.Entries[0].art.ID != "r5" {
		t.Fatalf("entries %+v, want r5 with its artifact read from its merge", l.Entries)
	}
}

// A .remediations entry that names an object the repository does not hold (a damaged
// or partial copy) is an error: never an empty directory, which would hide the
// artifacts it held.
func TestRuleLedgerRefusesAnArtifactDirectoryItCannotRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "infra.git")
	gittest.Run(t, "", "init", "-q", "--bare", "--initial-branch=main", dir)
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := objects{t: t, repo: repo}
	missing := plumbing.NewHash(strings.Repeat("ab", 20))
	tree := o.store(&object.Tree{Entries: []object.TreeEntry{
		{Name: ".remediations", Mode: filemode.Dir, Hash: missing},
		{Name: "README", Mode: filemode.Regular, Hash: o.blob("x\n")},
	}})
	o.ref("refs/heads/main", o.commit("dev", 0, "damaged\n", tree, nil))
	if _, err := Build(repo, nil, "main", time.Time{}, ruleT0); err == nil || !strings.Contains(err.Error(), missing.String()) {
		t.Fatalf(".remediations at the missing object %s: want an error naming it, got %v", missing, err)
	}
}
