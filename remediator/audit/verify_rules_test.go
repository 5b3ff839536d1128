package audit

// The rules `audit verify` checks a merge by with the remediator's key and the
// catalog (remediator/TRUST.md): whose commit the head is, who merged, whose word the
// outcome is, what the merge was decided on, and what the catalog published at the
// merge says. One history a test, written object by object (signed commits need
// go-git, not fast-import): fast enough for mutation testing.

import (
	"errors"
	"os"
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
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// objects writes Git objects and refs straight into a repository.
type objects struct {
	t    *testing.T
	repo *git.Repository
}

func (o objects) store(obj interface {
	Encode(plumbing.EncodedObject) error
}) plumbing.Hash {
	o.t.Helper()
	enc := o.repo.Storer.NewEncodedObject()
	if err := obj.Encode(enc); err != nil {
		o.t.Fatal(err)
	}
	h, err := o.repo.Storer.SetEncodedObject(enc)
	if err != nil {
		o.t.Fatal(err)
	}
	return h
}

func (o objects) blob(s string) plumbing.Hash {
	o.t.Helper()
	enc := o.repo.Storer.NewEncodedObject()
	enc.SetType(plumbing.BlobObject)
	w, err := enc.Writer()
	if err != nil {
		o.t.Fatal(err)
	}
	if _, err := w.Write([]byte(s)); err != nil {
		o.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		o.t.Fatal(err)
	}
	h, err := o.repo.Storer.SetEncodedObject(enc)
	if err != nil {
		o.t.Fatal(err)
	}
	return h
}

// tree writes the tree of files (slash-separated path to content), subtrees and all.
func (o objects) tree(files map[string]string) plumbing.Hash {
	o.t.Helper()
	sub := map[string]map[string]string{}
	var entries []object.TreeEntry
	for p, content := range files {
		if dir, rest, ok := strings.Cut(p, "/"); ok {
			if sub[dir] == nil {
				sub[dir] = map[string]string{}
			}
			sub[dir][rest] = content
			continue
		}
		entries = append(entries, object.TreeEntry{Name: p, Mode: filemode.Regular, Hash: o.blob(content)})
	}
	for dir, fs := range sub {
		entries = append(entries, object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: o.tree(fs)})
	}
	// Git's order: a directory sorts as its name and a slash.
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	return o.store(&object.Tree{Entries: entries})
}

// commit writes a commit by who at ruleT0+at seconds, signed by key (nil: unsigned).
func (o objects) commit(who string, at int, msg string, tree plumbing.Hash, key *signing.Key, parents ...plumbing.Hash) plumbing.Hash {
	o.t.Helper()
	sig := object.Signature{Name: who, Email: who + "@localhost", When: ruleT0.Add(time.Duration(at) * time.Second)}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: tree, ParentHashes: parents}
	if key != nil {
		if err := signing.SignCommit(c, key); err != nil {
			o.t.Fatal(err)
		}
	}
	return o.store(c)
}

func (o objects) ref(name string, h plumbing.Hash) {
	o.t.Helper()
	if err := o.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h)); err != nil {
		o.t.Fatal(err)
	}
}

// notes points ref at a notes commit of one tree: path (a commit's name, flat or
// fanned out as "ab/cdef…") to note.
func (o objects) notes(ref string, notes map[string]string) {
	o.t.Helper()
	o.ref(ref, o.commit("notes", 5000, "notes\n", o.tree(notes), nil))
}

// verifyKeys are the keys of a verify history: the remediator's, alice's (a
// reviewer the allowed-signers file lists), CI's (listed as ci, a check reporter)
// and another nobody trusts.
type verifyKeys struct {
	remediator, alice, ci, other *signing.Key
	signers                      *signing.AllowedSigners
}

func newVerifyKeys(t *testing.T) verifyKeys {
	t.Helper()
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
	var k verifyKeys
	var alicePub, ciPub string
	k.remediator, _ = key("remediator")
	k.alice, alicePub = key("alice")
	k.ci, ciPub = key("ci")
	k.other, _ = key("other")
	as, err := signing.ParseAllowedSigners("allowed_signers", []byte("alice@example.com "+alicePub+"\nci "+ciPub+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	k.signers = as
	return k
}

// verifyCatalog is the catalog a remediation of the history is judged by: runbook
// scale (low risk) acting on HighLatency per service, under policy prod (one approval
// at low risk, two at critical). edit changes it before it is made.
func verifyCatalog(t *testing.T, edit func(rb *runbooks.Runbook, pol *runbooks.Policy)) *runbooks.Catalog {
	t.Helper()
	rb := runbooks.NewRunbook("scale")
	rb.Spec.Risk = runbooks.RiskLow
	rb.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="HighLatency"`}, GroupBy: []string{"service"}}
	rb.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/{{ .labels.service }}.tfvars", Path: "replicas", Value: "current + 1"}}
	pol := runbooks.NewPolicy("prod")
	pol.Spec.Selector.Matchers = []string{`service="svc"`}
	pol.Spec.Approvals = runbooks.Approvals{Low: 1, Medium: 1, High: 2, Critical: 2}
	if edit != nil {
		edit(rb, pol)
	}
	cat, err := runbooks.NewCatalog([]*runbooks.Runbook{rb}, []*runbooks.Policy{pol})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// verifyArtifact is the artifact of the proposal the catalog makes for HighLatency
// on service svc: one change to envs/svc.tfvars, one approval required.
func verifyArtifact(t *testing.T, cat *runbooks.Catalog) *artifact.Artifact {
	t.Helper()
	rb, pol := cat.Runbook("scale"), cat.Policy("prod")
	version, err := runbooks.Version(rb)
	if err != nil {
		t.Fatal(err)
	}
	return &artifact.Artifact{ID: decision.ID("scale", "service=svc"), Runbook: "scale", RunbookVersion: version,
		Policy: "prod", Risk: "low", RequiredApprovals: 1, Target: "service=svc", Rollback: rb.Spec.Rollback,
		Limits: artifact.LimitsOf(rb, pol), Verify: artifact.VerifyOf(rb, pol),
		Anomaly: artifact.Anomaly{Fingerprint: "f", Source: "alertmanager", Status: "firing", StartsAt: "2026-11-01T09:59:00Z",
			Labels: map[string]string{"alertname": "HighLatency", "service": "svc"}},
		Changes: []artifact.Change{{File: "envs/svc.tfvars", Path: "replicas", From: "1", To: "2"}}, Merge: artifact.Merge{Allowed: true}}
}

// verifyHistory is main of an infrastructure repository holding one remediation:
//
//	root (0s): envs/svc.tfvars
//	head (60s): the proposal commit, envs/svc.tfvars and the artifact, signed by headKey
//	merge (120s): main and the head, Approved-by alice, Decided-On her approval and
//	    CI's plan report, signed by mergeKey
//
// with the notes as the remediator leaves them: alice's approval and CI's report on
// the head, the outcome sealed by the remediator on the merge.
type verifyHistory struct {
	objects
	keys              verifyKeys
	art               *artifact.Artifact
	root, head, merge plumbing.Hash
	mergeTree         plumbing.Hash
	checks            string // the head's checks note
	sealedOutcome     string
	mergeKey          *signing.Key
	decide            []string // the merge's Decided-On trailers
}

func newVerifyHistory(t *testing.T, keys verifyKeys, art *artifact.Artifact, headKey, mergeKey *signing.Key) *verifyHistory {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "infra.git")
	gittest.Run(t, "", "init", "-q", "--bare", "--initial-branch=main", dir)
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := &verifyHistory{objects: objects{t: t, repo: repo}, keys: keys, art: art, mergeKey: mergeKey}
	data, err := art.Encode()
	if err != nil {
		t.Fatal(err)
	}
	h.root = h.commit("dev", 0, "root\n", h.tree(map[string]string{"envs/svc.tfvars": "replicas = 1\n"}), nil)
	files := map[string]string{"envs/svc.tfvars": "replicas = 2\n", artifact.Path(art.ID): string(data)}
	h.mergeTree = h.tree(files)
	h.head = h.commit("remediator", 60, art.CommitMessage(), h.mergeTree, headKey, h.root)
	h.ref("refs/heads/remediation/"+art.ID, h.head)

	h.approveHead()
	h.writeMerge()
	return h
}

// approveHead writes alice's approval and CI's plan report on the head, as its
// notes, and the merge's Decided-On trailers naming both.
func (h *verifyHistory) approveHead() {
	h.t.Helper()
	approval, err := records.Sign(h.keys.alice, h.head.String(), "alice@example.com", records.ViaSSH, ruleT0.Add(90*time.Second))
	if err != nil {
		h.t.Fatal(err)
	}
	report, err := records.SignCheck(h.keys.ci, h.head.String(), "plan", forge.CheckSuccess, "ci", ruleT0.Add(80*time.Second))
	if err != nil {
		h.t.Fatal(err)
	}
	h.checks = string(records.AddCheck(nil, report))
	h.decide = strings.Split(strings.TrimSpace(records.DecidedTrailers(records.Decided([]records.Approval{approval}, []records.CheckReport{report}))), "\n")
	h.notes(records.ApprovalsRef, map[string]string{h.head.String(): string(records.AddApproval(nil, approval))})
	h.notes(records.ChecksRef, map[string]string{h.head.String(): h.checks})
}

// writeMerge (re)writes the merge commit and main, with the sealed outcome on it.
func (h *verifyHistory) writeMerge() {
	h.t.Helper()
	msg := "Merge remediation " + h.art.ID + "\n\n"
	for _, kv := range h.art.Trailers() {
		msg += kv[0] + ": " + kv[1] + "\n"
	}
	msg += "Approved-by: alice@example.com\n"
	for _, d := range h.decide {
		msg += d + "\n"
	}
	h.merge = h.commit("remediator", 120, msg, h.mergeTree, h.mergeKey, h.root, h.head)
	h.ref("refs/heads/main", h.merge)
	outcome, err := records.Seal(h.keys.remediator, records.KindOutcome, h.merge, "outcome: verified\nchecked_at: 2026-11-01T10:30:00Z\n")
	if err != nil {
		h.t.Fatal(err)
	}
	h.sealedOutcome = string(outcome)
	h.notes(records.OutcomeRef, map[string]string{h.merge.String(): h.sealedOutcome})
}

// trust is what `audit verify --remediator-key --config` checks against: the
// remediator's key, the allowed signers, CI as the check reporter, and cat as the
// catalog published at every time.
func (h *verifyHistory) trust(cat *runbooks.Catalog) Trust {
	return Trust{Remediator: h.keys.remediator.Public(), Reviewers: h.keys.signers, Reporters: []string{"ci"},
		CatalogAt: func(time.Time) (*runbooks.Catalog, error) { return cat, nil }}
}

// verify is what `audit verify` reports, one "kind: detail" a finding, at 1h.
func (h *verifyHistory) verify(t Trust) []string {
	h.t.Helper()
	l, err := Build(h.repo, nil, "main", time.Time{}, ruleT0.Add(time.Hour))
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, f := range l.Verify(h.repo, t) {
		out = append(out, f.Kind+": "+f.Detail)
	}
	return out
}

// wantFindings fails unless got is exactly one finding per want, each starting with it.
func wantFindings(t *testing.T, got []string, want ...string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Fatalf("audit verify found:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// A merge the remediator made of its own signed head, approved, decided on the notes
// still there, with its sealed outcome, under the catalog it was proposed by: audit
// verify has nothing to say. Each part of it is then forged in turn in the tests below.
func TestRuleVerifyTheRemediatorsOwnMergeIsClean(t *testing.T) {
	keys := newVerifyKeys(t)
	cat := verifyCatalog(t, nil)
	h := newVerifyHistory(t, keys, verifyArtifact(t, cat), keys.remediator, keys.remediator)
	wantFindings(t, h.verify(h.trust(cat)))
}

// The rule "the remediator merges only its own tree": a merged head the remediator's
// key did not sign, or signed for another remediation, is a person's change.
func TestRuleVerifyHeadMustBeTheRemediatorsOwnCommit(t *testing.T) {
	keys := newVerifyKeys(t)
	cat := verifyCatalog(t, nil)
	art := verifyArtifact(t, cat)
	for _, tc := range []struct {
		name string
		key  *signing.Key
		want string
	}{
		{"unsigned", nil, "(it is not signed); people merge it through their own process"},
		{"signed by another key", keys.other, "is not the remediator's own commit ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newVerifyHistory(t, keys, art, tc.key, keys.remediator)
			wantFindings(t, h.verify(h.trust(cat)),
				"changed-by-person: changed by a person: the head "+h.head.String()[:12]+" is not the remediator's own commit")
			if got := h.verify(h.trust(cat))[0]; !strings.Contains(got, tc.want) {
				t.Fatalf("the finding %q does not say %q", got, tc.want)
			}
		})
	}
	// The remediator's signed commit of another remediation.
	other := *art
	other.ID = "scale-0000000000"
	h := newVerifyHistory(t, keys, art, keys.remediator, keys.remediator)
	head := h.commit("remediator", 60, other.CommitMessage(), h.mergeTree, keys.remediator, h.root)
	h.head = head
	h.approveHead()
	h.writeMerge()
	wantFindings(t, h.verify(h.trust(cat)),
		`changed-by-person: changed by a person: the head `+head.String()[:12]+` is a remediator commit of "scale-0000000000", not of `+art.ID)
}

// The rule "its merges only": a merge commit the remediator did not sign is its only
// when its sealed record binds that merge (GitHub: the intent on the head, or the
// merged record on the merge commit); otherwise it was merged by hand.
func TestRuleVerifyMergeMustBeTheRemediators(t *testing.T) {
	keys := newVerifyKeys(t)
	cat := verifyCatalog(t, nil)
	h := newVerifyHistory(t, keys, verifyArtifact(t, cat), keys.remediator, nil)
	byHand := "merge-not-by-remediator: the merge commit is not signed by the remediator, and no merge record of the remediator binds its parents and tree: merged by hand"
	wantFindings(t, h.verify(h.trust(cat)), byHand)

	intent := func(k *signing.Key, tree plumbing.Hash) string {
		b, err := records.SealMergeIntent(k, h.art.ID, h.root, h.head, tree)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	merge, err := h.repo.CommitObject(h.merge)
	if err != nil {
		t.Fatal(err)
	}
	merged := func(k *signing.Key) string {
		b, err := records.SealMerged(k, h.art.ID, merge)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name  string
		notes map[string]string
		want  []string
	}{
		{"the remediator's intent on the head", map[string]string{h.head.String(): intent(keys.remediator, h.mergeTree)}, nil},
		{"the remediator's record on the merge", map[string]string{h.merge.String(): merged(keys.remediator)}, nil},
		{"an intent sealed by another key", map[string]string{h.head.String(): intent(keys.other, h.mergeTree)}, []string{byHand}},
		{"an intent for another tree", map[string]string{h.head.String(): intent(keys.remediator, h.root)}, []string{byHand}},
		{"a merged record sealed by another key", map[string]string{h.merge.String(): merged(keys.other)}, []string{byHand}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.notes(records.MergesRef, tc.notes)
			wantFindings(t, h.verify(h.trust(cat)), tc.want...)
		})
	}
}

// The rule "outcomes are the remediator's word": an outcome note it did not seal for
// this merge counts for nothing, and audit verify says so.
func TestRuleVerifyOutcomeMustBeSealedByTheRemediator(t *testing.T) {
	keys := newVerifyKeys(t)
	cat := verifyCatalog(t, nil)
	h := newVerifyHistory(t, keys, verifyArtifact(t, cat), keys.remediator, keys.remediator)
	other, err := records.Seal(keys.other, records.KindOutcome, h.merge, "outcome: verified\n")
	if err != nil {
		t.Fatal(err)
	}
	forHead, err := records.Seal(keys.remediator, records.KindOutcome, h.head, "outcome: verified\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, note string
		want       []string
	}{
		{"sealed by the remediator", h.sealedOutcome, nil},
		{"unsigned", "outcome: verified\n", []string{"outcome-not-by-remediator: outcome note not sealed by the remediator: unsigned: it counts for nothing (no record, no breaker)"}},
		{"sealed by another key", string(other), []string{"outcome-not-by-remediator: outcome note not sealed by the remediator: "}},
		{"sealed for another commit", string(forHead), []string{"outcome-not-by-remediator: outcome note not sealed by the remediator: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.notes(records.OutcomeRef, map[string]string{h.merge.String(): tc.note})
			wantFindings(t, h.verify(h.trust(cat)), tc.want...)
		})
	}
}

// The rule "what the remediator saw is what it decided on": the check report a
// signed merge names must still be in the checks note of its head, word for word.
func TestRuleVerifyDecidedOnCheckReportMustStayInTheNotes(t *testing.T) {
	keys := newVerifyKeys(t)
	cat := verifyCatalog(t, nil)
	h := newVerifyHistory(t, keys, verifyArtifact(t, cat), keys.remediator, keys.remediator)
	failed, err := records.SignCheck(keys.ci, h.head.String(), "plan", forge.CheckFailure, "ci", ruleT0.Add(80*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, note string
		want       []string
	}{
		{"the report still there, more after it", h.checks + string(records.AddCheck(nil, failed)), nil},
		{"the report replaced by a failure", string(records.AddCheck(nil, failed)), []string{
			"evidence-changed: it was decided on check plan success by ci (sha256:",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.notes(records.ChecksRef, map[string]string{h.head.String(): tc.note})
			got := h.verify(h.trust(cat))
			wantFindings(t, got, tc.want...)
			if len(got) > 0 && !strings.Contains(got[0], "which the notes of its head "+h.head.String()[:12]+" no longer hold") {
				t.Fatalf("the finding %q does not name the head", got[0])
			}
		})
	}
}

// The rule "the catalog decides": a merge is judged by the catalog published when it
// merged. A catalog that cannot be read, that does not compile, or that no longer
// holds the runbook, or disagrees with the artifact, is a finding saying which; a
// policy's required reviewer must be among the valid approvals.
func TestRuleVerifyJudgedByTheCatalogAtTheMerge(t *testing.T) {
	keys := newVerifyKeys(t)
	cat := verifyCatalog(t, nil)
	art := verifyArtifact(t, cat)
	h := newVerifyHistory(t, keys, art, keys.remediator, keys.remediator)
	at := func(c *runbooks.Catalog, err error) Trust {
		tr := h.trust(c)
		tr.CatalogAt = func(when time.Time) (*runbooks.Catalog, error) {
			if !when.Equal(ruleT0.Add(120 * time.Second)) {
				t.Errorf("the catalog read at %s, want the merge's time", when)
			}
			return c, err
		}
		return tr
	}
	broken := verifyCatalog(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) {
		rb.Spec.Trigger.Matchers = []string{`alertname=~"(`}
	})
	noRunbook, err := runbooks.NewCatalog(nil, cat.Policies)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		trust Trust
		want  []string
	}{
		{"the catalog it was proposed by", at(cat, nil), nil},
		{"no catalog given", Trust{Remediator: keys.remediator.Public(), Reviewers: keys.signers}, nil},
		{"the catalog cannot be read", at(nil, errors.New("no such ref")), []string{
			"catalog-mismatch: the catalog published at 2026-11-01T10:02:00Z cannot be read: no such ref",
		}},
		{"the catalog does not compile", at(broken, nil), []string{
			"catalog-mismatch: the catalog published at the merge does not compile: ",
		}},
		{"the runbook is gone", at(noRunbook, nil), []string{
			"catalog-mismatch: runbook scale is no longer in the catalog: nothing merges in its name",
		}},
		{"the policy wants two approvals", at(verifyCatalog(t, func(_ *runbooks.Runbook, pol *runbooks.Policy) {
			pol.Spec.Approvals.Low = 2
		}), nil), []string{
			"catalog-mismatch: the artifact disagrees with the catalog (required_approvals is 1 in the artifact, 2 in the catalog)",
		}},
		{"the policy requires alice", at(verifyCatalog(t, func(_ *runbooks.Runbook, pol *runbooks.Policy) {
			pol.Spec.RequiredReviewers = []string{"alice@example.com"}
		}), nil), nil},
		{"the policy requires bob", at(verifyCatalog(t, func(_ *runbooks.Runbook, pol *runbooks.Policy) {
			pol.Spec.RequiredReviewers = []string{"bob@example.com"}
		}), nil), []string{
			"required-reviewer-missing: policy prod requires an approval by bob@example.com; none of the valid approvals is theirs",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFindings(t, h.verify(tc.trust), tc.want...)
		})
	}
}

// The rollback of a merge whose runbook has since left the catalog is judged at
// critical risk (records.TermsOf): audit verify counts its approvals against the
// policy's critical tier, whatever its artifact and trailers claim, and says so. While
// the runbook is in the catalog its rollback is judged at the runbook's risk.
func TestRuleVerifyRollbackOfADeletedRunbookNeedsCriticalApprovals(t *testing.T) {
	keys := newVerifyKeys(t)
	cat := verifyCatalog(t, nil)
	art := verifyArtifact(t, cat)
	art.RollbackOf = art.ID
	art.ID += artifact.RollbackSuffix
	h := newVerifyHistory(t, keys, art, keys.remediator, keys.remediator)
	wantFindings(t, h.verify(h.trust(cat)))
	gone, err := runbooks.NewCatalog(nil, cat.Policies)
	if err != nil {
		t.Fatal(err)
	}
	wantFindings(t, h.verify(h.trust(gone)),
		"too-few-approvals: merged with 1 valid approval(s); policy prod required 2 for risk critical")
}
