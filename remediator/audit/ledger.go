// Package audit rebuilds the ledger of remediations from Git alone: the merge commits
// of the base branch with their trailers, the artifacts they merged, the approvals
// recorded on the proposal heads and the outcome notes. Verify flags what does not add
// up: a merge with too few approvals, an approval trailer nothing backs, an artifact
// changed outside its own merge, a merge with no outcome after its window.
package audit

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// Entry is one merged remediation.
type Entry struct {
	ID                string        `json:"id"`
	Runbook           string        `json:"runbook"`
	RunbookVersion    string        `json:"runbook_version"`
	Policy            string        `json:"policy"`
	Risk              string        `json:"risk"`
	Anomaly           string        `json:"anomaly"`
	Fingerprint       string        `json:"anomaly_fingerprint"`
	RequiredApprovals int           `json:"required_approvals"`
	Approvers         []string      `json:"approvers"`
	MergedAt          time.Time     `json:"merged_at"`
	MergedBy          string        `json:"merged_by"`
	Merge             string        `json:"merge_commit"`
	Head              string        `json:"proposal_head"`
	Outcome           forge.Outcome `json:"outcome"`
	// Rollback is the id of the remediation that reverted this one, if any.
	Rollback string `json:"rollback,omitempty"`
	// TimeTo is the time from the anomaly to the proposal, merge and verification.
	TimeTo *TimeTo `json:"time_to_remediate,omitempty"`
	// DecidedOn is the evidence the remediator's merge names: each approval and check
	// report it decided on, by the hash of its note entry.
	DecidedOn []string `json:"decided_on,omitempty"`

	within     time.Duration
	reverts    []string
	noteApps   []records.Approval
	unreadable []string
	headAuth   [2]string
	// outcomeNote and mergeIntent are the raw notes, checked by Verify; mergedRecord
	// is the remediator's record on the merge commit itself (GitHub).
	outcomeNote, mergeIntent, mergedRecord []byte
	// approvalsNote and checksNote are the merged head's notes as they are now.
	approvalsNote, checksNote []byte
	art                       *artifact.Artifact
}

// Outcomes shown for an entry without a note: the ledger's own words beside the
// recorded ones (forge.Outcome's verified, failed, not-applied).
const (
	OutcomePending forge.Outcome = "pending" // still inside its verification window
	OutcomeMissing forge.Outcome = "missing" // the window has passed and nothing was recorded
)

// Finding is one thing audit verify flags.
type Finding struct {
	Commit string `json:"commit"`
	ID     string `json:"id,omitempty"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Kinds of findings.
const (
	// FindingForeignHead: the merged head is not the remediator's own commit.
	FindingForeignHead = "changed-by-person"
	// FindingMergeNotOurs: the merge commit was not made by the remediator.
	FindingMergeNotOurs = "merge-not-by-remediator"
	// FindingScope: the merge changed files its runbook does not, or a protected path.
	FindingScope = "out-of-scope"
	// FindingCatalog: the artifact disagreed with the catalog published at the merge.
	FindingCatalog = "catalog-mismatch"
	// FindingReviewer: a required reviewer or team did not approve.
	FindingReviewer    = "required-reviewer-missing"
	FindingApprovals   = "too-few-approvals"
	FindingUnbacked    = "unbacked-approval"
	FindingArtifact    = "artifact-outside-merge"
	FindingNoOutcome   = "no-outcome"
	FindingBadArtifact = "unreadable-artifact"
	// FindingOutcomeNotOurs: the merge's outcome note is not sealed by the remediator:
	// written or replaced by someone else, it proves nothing.
	FindingOutcomeNotOurs = "outcome-not-by-remediator"
	// FindingDateBeforeParent: a commit of the base's first-parent line claims a
	// committer date before its parent's.
	FindingDateBeforeParent = "date-before-parent"
)

// Ledger is the audit of one base branch.
type Ledger struct {
	Entries  []Entry
	Findings []Finding
}

// Build walks the base branch's first-parent history, newest first, back to since
// (zero: all of it). trees are more handles on the same repository: the artifact
// trees are compared on them in parallel with the walk, a worker per handle (go-git
// handles are not safe for concurrent use; none compares them on repo, after the
// walk). The ledger is the same either way.
func Build(repo *git.Repository, trees []*git.Repository, base string, since, now time.Time) (*Ledger, error) {
	return BuildSince(repo, trees, base, Since{At: since}, now)
}

// Since is where a walk back from the base stops. Dates are claims: anyone with push
// access can commit with any committer date, so a walk that stopped at the first
// commit dated before At would hide everything beneath it. With the remediator's key
// the walk stops only at a merge the remediator signed (whose date its own clock
// wrote) dated before At: every commit above it on the first-parent line is walked,
// whatever it claims. Without the key, the dates are taken as they stand.
type Since struct {
	At         time.Time
	Remediator ssh.PublicKey
}

// stops says whether the walk ends at nd, which is not part of the ledger.
func (s Since) stops(graph *nodes, nd *node) bool {
	if s.At.IsZero() || !nd.when.Before(s.At) {
		return false
	}
	if s.Remediator == nil {
		return true
	}
	if len(nd.parents) < 2 {
		return false
	}
	c, err := graph.decode(nd)
	return err == nil && signing.VerifyCommit(c, s.Remediator) == nil
}

// BuildSince is Build, stopping where since says.
func BuildSince(repo *git.Repository, trees []*git.Repository, base string, since Since, now time.Time) (*Ledger, error) {
	head, err := resolveBase(repo, base)
	if err != nil {
		return nil, err
	}
	notes, err := readLedgerNotes(repo)
	if err != nil {
		return nil, err
	}
	w := &ledgerWalk{repo: repo, trees: trees, notes: notes, l: &Ledger{}, byMerge: map[string]int{}}
	artifactFindings, artifacts, err := w.run(head, base, since)
	if err != nil {
		return nil, err
	}
	w.l.readArtifacts(artifacts, now)
	w.l.Findings = append(w.l.Findings, artifactFindings...)
	w.l.linkRollbacks(w.byMerge)
	return w.l, nil
}

// ledgerWalk is one walk of the base's first-parent line: it makes the ledger's
// entries (its merges) and date findings as it goes, while tree workers, one per
// handle in trees, find the commits that change artifacts. Batches keep the
// channel cheap.
type ledgerWalk struct {
	repo    *git.Repository
	trees   []*git.Repository
	notes   ledgerNotes
	l       *Ledger
	byMerge map[string]int // merge commit to its entry
	pool    *treeWorkers
	pending []treeJob
	all     [][]treeJob // the batches kept for one worker after the walk, without trees
}

const treeBatchSize = 512

func (w *ledgerWalk) flush(force bool) {
	if len(w.pending) == 0 || (!force && len(w.pending) < treeBatchSize) {
		return
	}
	if len(w.trees) > 0 {
		w.pool.send(w.pending)
	} else {
		w.all = append(w.all, w.pending)
	}
	w.pending = nil
}

// run walks from head until since stops it, and returns what the tree workers found.
func (w *ledgerWalk) run(head plumbing.Hash, base string, since Since) ([]Finding, map[plumbing.Hash]artifactRead, error) {
	w.pool = startTreeWorkers(w.trees)
	graph := openNodes(w.repo)
	defer graph.close()
	cur, err := graph.get(head)
	if err != nil {
		_, _, _ = w.pool.wait() // nothing was sent
		return nil, nil, fmt.Errorf("read %s: %w", base, err)
	}
	var walkErr error
	for !since.stops(graph, &cur) {
		var parent node
		if parent, walkErr = w.step(graph, &cur); walkErr != nil || len(cur.parents) == 0 {
			break
		}
		cur = parent
	}
	w.flush(true)
	if len(w.trees) == 0 {
		w.pool = startTreeWorkers([]*git.Repository{w.repo})
		for _, b := range w.all {
			w.pool.send(b)
		}
	}
	artifactFindings, artifacts, workerErr := w.pool.wait()
	if walkErr != nil {
		return nil, nil, walkErr
	}
	if workerErr != nil {
		return nil, nil, workerErr
	}
	return artifactFindings, artifacts, nil
}

// step takes the commit cur into the ledger (a finding when it is dated before its
// parent, an entry when it is a remediation's merge, a job for the tree workers)
// and returns its first parent (none for a root).
func (w *ledgerWalk) step(graph *nodes, cur *node) (node, error) {
	var parent node
	if len(cur.parents) > 0 {
		var err error
		if parent, err = graph.parent(*cur); err != nil {
			return parent, err
		}
		if cur.when.Before(parent.when) {
			w.l.Findings = append(w.l.Findings, Finding{Commit: cur.hash.String(), Kind: FindingDateBeforeParent,
				Detail: fmt.Sprintf("committed at %s, before its parent %s (%s): a committer date is a claim, and this one hides where the commit sits in history",
					cur.when.UTC().Format(time.RFC3339), parent.hash.String()[:12], parent.when.UTC().Format(time.RFC3339))})
		}
	}
	job := treeJob{commit: cur.hash, tree: cur.tree, ptree: parent.tree}
	if len(cur.parents) >= 2 {
		// Only a merge can be a remediation's: the one commit kind decoded.
		c, err := graph.decode(cur)
		if err != nil {
			return parent, err
		}
		trailers := Trailers(c.Message)
		if id := first(trailers, "Remediation-Id"); id != "" {
			job.mergeID = id
			w.byMerge[c.Hash.String()] = len(w.l.Entries)
			w.l.Entries = append(w.l.Entries, entry(w.repo, c, trailers, id, w.notes))
		}
	}
	w.pending = append(w.pending, job)
	w.flush(false)
	return parent, nil
}

// readArtifacts completes each entry with what its merge's artifact says (or a
// finding when it cannot be read), and its outcome: pending, or missing once its
// verification window has passed.
func (l *Ledger) readArtifacts(artifacts map[plumbing.Hash]artifactRead, now time.Time) {
	for i := range l.Entries {
		e := &l.Entries[i]
		read := artifacts[plumbing.NewHash(e.Merge)]
		if read.err != nil {
			l.Findings = append(l.Findings, Finding{Commit: e.Merge, ID: e.ID, Kind: FindingBadArtifact, Detail: fmt.Sprintf("%s: %v", artifact.Path(e.ID), read.err)})
		} else if a := read.a; a != nil {
			e.art = a
			e.RequiredApprovals = a.RequiredApprovals
			e.Anomaly = anomaly(a)
			if d, err := time.ParseDuration(a.Verify.Within); err == nil {
				e.within = d
			}
			for _, r := range a.Reverts {
				e.reverts = append(e.reverts, r.Commit)
			}
			e.TimeTo = timeTo(a, e.MergedAt, e.Outcome, e.outcomeNote)
		}
		if e.Outcome == "" {
			e.Outcome = OutcomePending
			if now.After(e.MergedAt.Add(e.within)) {
				e.Outcome = OutcomeMissing
			}
		}
	}
}

// linkRollbacks links each merge a later remediation reverted back to it.
func (l *Ledger) linkRollbacks(byMerge map[string]int) {
	for _, e := range l.Entries {
		for _, rev := range e.reverts {
			if i, ok := byMerge[rev]; ok {
				l.Entries[i].Rollback = e.ID
			}
		}
	}
}

// treeJob is one commit of the walk, for the tree worker.
type treeJob struct {
	commit, tree, ptree plumbing.Hash
	mergeID             string
}

// artifactRead is the artifact a merge commit holds, or why it could not be read.
type artifactRead struct {
	a   *artifact.Artifact
	err error
}

// compareTrees flags each commit of a batch that changes an artifact other than its
// own merge's, and reads the artifact of each merge.
func compareTrees(repo *git.Repository, dirs *artifactDirs, roots *rootTrees, b []treeJob, res *batchResult) error {
	for _, j := range b {
		now, err := roots.artifactEntry(j.tree)
		if err != nil {
			return err
		}
		var before *dirEntry
		if !j.ptree.IsZero() {
			if before, err = roots.artifactEntry(j.ptree); err != nil {
				return err
			}
		}
		changed, err := dirs.changed(now, before)
		if err != nil {
			return err
		}
		if j.mergeID != "" {
			res.arts[j.commit] = readArtifact(repo, dirs, now, j.mergeID)
		}
		for _, name := range changed {
			own := strings.TrimSuffix(path.Base(name), ".yaml")
			if j.mergeID != "" && own == j.mergeID {
				continue
			}
			res.findings = append(res.findings, Finding{Commit: j.commit.String(), ID: own, Kind: FindingArtifact,
				Detail: fmt.Sprintf("%s changed by %q, not by the merge of proposal %s", name, subject(repo, j.commit), own)})
		}
	}
	return nil
}

// subject is a commit's first line, read only for a finding: the walk decodes no
// commit but the merges.
func subject(repo *git.Repository, h plumbing.Hash) string {
	c, err := repo.CommitObject(h)
	if err != nil {
		return h.String()[:12]
	}
	s, _, _ := strings.Cut(c.Message, "\n")
	return s
}

func readArtifact(repo *git.Repository, dirs *artifactDirs, dir *dirEntry, id string) artifactRead {
	raw, err := dirs.raw(dir)
	if err != nil {
		return artifactRead{err: err}
	}
	e, err := findEntry(raw, id+".yaml")
	if err != nil {
		return artifactRead{err: err}
	}
	if e == nil || e.dir {
		return artifactRead{err: errors.New("missing from the merge")}
	}
	data, err := blobContents(repo, e.hash)
	if err != nil {
		return artifactRead{err: err}
	}
	a, err := artifact.Decode(data)
	return artifactRead{a: a, err: err}
}

// rootTrees reads the .remediations entry of root trees, remembering the last: a
// commit's parent tree is the next commit's tree.
type rootTrees struct {
	repo  *git.Repository
	last  plumbing.Hash
	entry *dirEntry
}

func (r *rootTrees) artifactEntry(tree plumbing.Hash) (*dirEntry, error) {
	if tree == r.last && !tree.IsZero() {
		return r.entry, nil
	}
	raw, err := readRaw(r.repo, tree)
	if err != nil {
		return nil, err
	}
	e, err := findEntry(raw, artifact.Dir)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", tree, err)
	}
	r.last, r.entry = tree, e
	return e, nil
}

// ledgerNotes are the note blobs by annotated commit, of each notes ref the ledger reads.
type ledgerNotes struct {
	outcomes, approvals, intents, checks map[plumbing.Hash]plumbing.Hash
}

// readLedgerNotes reads the notes refs the ledger reads.
func readLedgerNotes(repo *git.Repository) (ledgerNotes, error) {
	var n ledgerNotes
	for _, r := range []struct {
		ref string
		to  *map[plumbing.Hash]plumbing.Hash
	}{{records.OutcomeRef, &n.outcomes}, {records.ApprovalsRef, &n.approvals}, {records.MergesRef, &n.intents}, {records.ChecksRef, &n.checks}} {
		m, err := readNotes(repo, r.ref)
		if err != nil {
			return n, err
		}
		*r.to = m
	}
	return n, nil
}

func entry(repo *git.Repository, c *object.Commit, trailers [][2]string, id string, notes ledgerNotes) Entry {
	e := Entry{
		ID: id, Runbook: first(trailers, "Runbook"), RunbookVersion: first(trailers, "Runbook-Version"),
		Policy: first(trailers, "Policy"), Risk: first(trailers, "Risk"), Fingerprint: first(trailers, "Anomaly-Fingerprint"),
		Approvers: all(trailers, "Approved-by"), MergedAt: c.Committer.When, MergedBy: c.Author.Name,
		Merge: c.Hash.String(), Head: c.ParentHashes[1].String(), DecidedOn: all(trailers, records.DecidedOnTrailer),
	}
	if blob, ok := notes.checks[c.ParentHashes[1]]; ok {
		if note, err := blobContents(repo, blob); err == nil {
			e.checksNote = note
		}
	}
	if blob, ok := notes.outcomes[c.Hash]; ok {
		if note, err := blobContents(repo, blob); err == nil {
			e.Outcome = records.OutcomeOf(note)
			e.outcomeNote = note
		}
	}
	if blob, ok := notes.intents[c.Hash]; ok {
		if note, err := blobContents(repo, blob); err == nil {
			e.mergedRecord = note
		}
	}
	if blob, ok := notes.intents[c.ParentHashes[1]]; ok {
		if note, err := blobContents(repo, blob); err == nil {
			e.mergeIntent = note
		}
	}
	if blob, ok := notes.approvals[c.ParentHashes[1]]; ok {
		if note, err := blobContents(repo, blob); err == nil {
			e.approvalsNote = note
			e.noteApps, e.unreadable = records.ParseApprovals(note)
		}
	}
	if head, err := repo.CommitObject(c.ParentHashes[1]); err == nil {
		e.headAuth = [2]string{head.Author.Name, head.Author.Email}
	}
	return e
}

func anomaly(a *artifact.Artifact) string {
	keys := make([]string, 0, len(a.Anomaly.Labels))
	for k := range a.Anomaly.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+a.Anomaly.Labels[k])
	}
	return strings.Join(parts, ",")
}

// artifactDirs reads .remediations directories, remembering the last two read: the
// directory one change left is the one the change before it made.
type artifactDirs struct {
	repo *git.Repository
	memo [2]struct {
		hash plumbing.Hash
		raw  []byte
	}
}

func (d *artifactDirs) raw(e *dirEntry) ([]byte, error) {
	if e == nil || !e.dir {
		return nil, nil
	}
	for _, m := range d.memo {
		if m.hash == e.hash && m.raw != nil {
			return m.raw, nil
		}
	}
	raw, err := readRaw(d.repo, e.hash)
	if err != nil {
		return nil, err
	}
	d.memo[1] = d.memo[0]
	d.memo[0].hash, d.memo[0].raw = e.hash, raw
	return raw, nil
}

// changed lists the artifact files that differ between two .remediations entries,
// reading their trees only when their hashes differ (most commits share it).
func (d *artifactDirs) changed(now, before *dirEntry) ([]string, error) {
	// Ifs, not a tagless switch: mutation testing cannot see a case's condition.
	if now == nil && before == nil {
		return nil, nil
	}
	if now != nil && before != nil && now.hash == before.hash {
		return nil, nil
	}
	b, err := d.raw(now)
	if err != nil {
		return nil, err
	}
	a, err := d.raw(before)
	if err != nil {
		return nil, err
	}
	names, err := diffEntries(b, a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", artifact.Dir, err)
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = path.Join(artifact.Dir, n)
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

func resolveBase(repo *git.Repository, base string) (plumbing.Hash, error) {
	for _, r := range []string{"refs/heads/" + base, "refs/remotes/origin/" + base, base} {
		if h, err := repo.ResolveRevision(plumbing.Revision(r)); err == nil {
			return *h, nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("no branch %q in the repository", base)
}

// readNotes maps each annotated commit to its note blob, flat or fanned out.
func readNotes(repo *git.Repository, ref string) (map[plumbing.Hash]plumbing.Hash, error) {
	out := map[plumbing.Hash]plumbing.Hash{}
	r, err := repo.Reference(plumbing.ReferenceName(ref), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := repo.CommitObject(r.Hash())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	t, err := c.Tree()
	if err != nil {
		return nil, err
	}
	var walk func(t *object.Tree, prefix string) error
	walk = func(t *object.Tree, prefix string) error {
		for _, e := range t.Entries {
			name := prefix + e.Name
			if e.Mode == filemode.Dir {
				sub, err := repo.TreeObject(e.Hash)
				if err != nil {
					return err
				}
				if err := walk(sub, name); err != nil {
					return err
				}
				continue
			}
			if len(name) == 40 {
				out[plumbing.NewHash(name)] = e.Hash
			}
		}
		return nil
	}
	return out, walk(t, "")
}
