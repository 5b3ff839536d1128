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
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
)

// Entry is one merged remediation.
type Entry struct {
	ID                string    `json:"id"`
	Runbook           string    `json:"runbook"`
	RunbookVersion    string    `json:"runbook_version"`
	Policy            string    `json:"policy"`
	Risk              string    `json:"risk"`
	Anomaly           string    `json:"anomaly"`
	Fingerprint       string    `json:"anomaly_fingerprint"`
	RequiredApprovals int       `json:"required_approvals"`
	Approvers         []string  `json:"approvers"`
	MergedAt          time.Time `json:"merged_at"`
	MergedBy          string    `json:"merged_by"`
	Merge             string    `json:"merge_commit"`
	Head              string    `json:"proposal_head"`
	Outcome           string    `json:"outcome"`
	// Rollback is the id of the remediation that reverted this one, if any.
	Rollback string `json:"rollback,omitempty"`

	within   time.Duration
	reverts  []string
	noteApps []lifecycle.Approval
	headAuth [2]string
}

// Outcomes shown for an entry without a note.
const (
	OutcomePending = "pending" // still inside its verification window
	OutcomeMissing = "missing" // the window has passed and nothing was recorded
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
	FindingApprovals   = "too-few-approvals"
	FindingUnbacked    = "unbacked-approval"
	FindingArtifact    = "artifact-outside-merge"
	FindingNoOutcome   = "no-outcome"
	FindingBadArtifact = "unreadable-artifact"
)

// Ledger is the audit of one base branch.
type Ledger struct {
	Entries  []Entry
	Findings []Finding
}

// Build walks the base branch's first-parent history, newest first, back to since
// (zero: all of it).
func Build(repo *git.Repository, base string, since, now time.Time) (*Ledger, error) {
	head, err := resolveBase(repo, base)
	if err != nil {
		return nil, err
	}
	outcomes, err := readNotes(repo, lifecycle.OutcomeRef)
	if err != nil {
		return nil, err
	}
	approvals, err := readNotes(repo, lifecycle.ApprovalsRef)
	if err != nil {
		return nil, err
	}
	l := &Ledger{}
	byMerge := map[string]int{}
	c, err := repo.CommitObject(head)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", base, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, err
	}
	for c != nil {
		if !since.IsZero() && c.Committer.When.Before(since) {
			break
		}
		var parent *object.Commit
		var ptree *object.Tree
		if c.NumParents() > 0 {
			if parent, err = c.Parent(0); err != nil {
				return nil, err
			}
			if ptree, err = parent.Tree(); err != nil {
				return nil, err
			}
		}
		trailers := Trailers(c.Message)
		id := first(trailers, "Remediation-Id")
		isMerge := c.NumParents() >= 2 && id != ""
		if isMerge {
			e, finding := entry(repo, c, tree, trailers, id, outcomes, approvals, now)
			if finding != nil {
				l.Findings = append(l.Findings, *finding)
			}
			byMerge[c.Hash.String()] = len(l.Entries)
			l.Entries = append(l.Entries, e)
		}
		changed, err := changedArtifacts(repo, tree, ptree)
		if err != nil {
			return nil, err
		}
		for _, name := range changed {
			own := strings.TrimSuffix(path.Base(name), ".yaml")
			if isMerge && own == id {
				continue
			}
			subject, _, _ := strings.Cut(c.Message, "\n")
			l.Findings = append(l.Findings, Finding{Commit: c.Hash.String(), ID: own, Kind: FindingArtifact,
				Detail: fmt.Sprintf("%s changed by %q, not by the merge of proposal %s", name, subject, own)})
		}
		c, tree = parent, ptree
	}
	// Rollbacks: a later remediation that reverted a merge links back to it.
	for _, e := range l.Entries {
		for _, rev := range e.reverts {
			if i, ok := byMerge[rev]; ok {
				l.Entries[i].Rollback = e.ID
			}
		}
	}
	return l, nil
}

func entry(repo *git.Repository, c *object.Commit, tree *object.Tree, trailers [][2]string, id string,
	outcomes, approvals map[plumbing.Hash]plumbing.Hash, now time.Time) (Entry, *Finding) {
	e := Entry{
		ID: id, Runbook: first(trailers, "Runbook"), RunbookVersion: first(trailers, "Runbook-Version"),
		Policy: first(trailers, "Policy"), Risk: first(trailers, "Risk"), Fingerprint: first(trailers, "Anomaly-Fingerprint"),
		Approvers: all(trailers, "Approved-by"), MergedAt: c.Committer.When, MergedBy: c.Author.Name,
		Merge: c.Hash.String(), Head: c.ParentHashes[1].String(),
	}
	var finding *Finding
	if data, err := fileContents(tree, artifact.Path(id)); err != nil {
		finding = &Finding{Commit: e.Merge, ID: id, Kind: FindingBadArtifact, Detail: fmt.Sprintf("%s: %v", artifact.Path(id), err)}
	} else if a, err := artifact.Decode(data); err != nil {
		finding = &Finding{Commit: e.Merge, ID: id, Kind: FindingBadArtifact, Detail: fmt.Sprintf("%s: %v", artifact.Path(id), err)}
	} else {
		e.RequiredApprovals = a.RequiredApprovals
		e.Anomaly = anomaly(a)
		if d, err := time.ParseDuration(a.Verify.Within); err == nil {
			e.within = d
		}
		for _, r := range a.Reverts {
			e.reverts = append(e.reverts, r.Commit)
		}
	}
	e.Outcome = OutcomePending
	if blob, ok := outcomes[c.Hash]; ok {
		if note, err := blobContents(repo, blob); err == nil {
			e.Outcome = lifecycle.OutcomeOf(note)
		}
	} else if now.After(e.MergedAt.Add(e.within)) {
		e.Outcome = OutcomeMissing
	}
	if blob, ok := approvals[c.ParentHashes[1]]; ok {
		if note, err := blobContents(repo, blob); err == nil {
			e.noteApps = lifecycle.ParseApprovals(note)
		}
	}
	if head, err := repo.CommitObject(c.ParentHashes[1]); err == nil {
		e.headAuth = [2]string{head.Author.Name, head.Author.Email}
	}
	return e, finding
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

// changedArtifacts lists the artifact files a commit changes against its first parent,
// reading only the .remediations trees (their hashes first: most commits share it).
func changedArtifacts(repo *git.Repository, tree, ptree *object.Tree) ([]string, error) {
	now, _ := tree.FindEntry(artifact.Dir)
	var before *object.TreeEntry
	if ptree != nil {
		before, _ = ptree.FindEntry(artifact.Dir)
	}
	switch {
	case now == nil && before == nil:
		return nil, nil
	case now != nil && before != nil && now.Hash == before.Hash:
		return nil, nil
	}
	entries := func(e *object.TreeEntry) (map[string]plumbing.Hash, error) {
		out := map[string]plumbing.Hash{}
		if e == nil || e.Mode != filemode.Dir {
			return out, nil
		}
		t, err := repo.TreeObject(e.Hash)
		if err != nil {
			return nil, err
		}
		for _, x := range t.Entries {
			out[x.Name] = x.Hash
		}
		return out, nil
	}
	a, err := entries(before)
	if err != nil {
		return nil, err
	}
	b, err := entries(now)
	if err != nil {
		return nil, err
	}
	var out []string
	for name, h := range b {
		if a[name] != h {
			out = append(out, path.Join(artifact.Dir, name))
		}
	}
	for name := range a {
		if _, ok := b[name]; !ok {
			out = append(out, path.Join(artifact.Dir, name))
		}
	}
	sort.Strings(out)
	return out, nil
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

func fileContents(t *object.Tree, name string) ([]byte, error) {
	f, err := t.File(name)
	if err != nil {
		return nil, err
	}
	s, err := f.Contents()
	return []byte(s), err
}

func blobContents(repo *git.Repository, h plumbing.Hash) ([]byte, error) {
	b, err := repo.BlobObject(h)
	if err != nil {
		return nil, err
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return []byte(sb.String()), nil
}
