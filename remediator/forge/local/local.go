// Package local is the forge of any plain Git repository: a proposal is the pushed
// branch remediation/<id> itself. Its state is read from Git (merged when the base
// holds its head), and repeats of the anomaly are counted in a git note on the
// proposal's head under refs/notes/remediation-recurrences, so every replica and
// every restart sees the same count.
package local

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// RecurrencesRef holds the recurrence counts of open proposals.
const RecurrencesRef = "refs/notes/remediation-recurrences"

// Forge is the local forge over the infrastructure repository's mirror.
type Forge struct {
	Infra       *infrarepo.Repo
	Base        string
	AuthorName  string
	AuthorEmail string
	// Reviewers are the keys a rejection is checked against (the allowed-signers file).
	Reviewers *signing.AllowedSigners
	// Now is the clock of closing records; nil is time.Now.
	Now func() time.Time
}

// Lookup reads the proposal branch as last fetched: open, merged when the base
// already holds its head, closed when its closing record names its head. A branch
// deleted without merge is found by its closing record, or not at all.
func (f *Forge) Lookup(_ context.Context, branch string) (forge.Proposal, bool, error) {
	head, ok := f.Infra.Branch(branch)
	if !ok {
		return f.closed(branch)
	}
	return f.proposal(branch, head)
}

func (f *Forge) proposal(branch string, head plumbing.Hash) (forge.Proposal, bool, error) {
	c, err := f.Infra.Commit(head)
	if err != nil {
		return forge.Proposal{}, false, fmt.Errorf("read %s: %w", branch, err)
	}
	t := infrarepo.Trailers(c.Message)
	if t["Remediation-Id"] == "" {
		return forge.Proposal{}, false, nil // a branch a person made: not a proposal
	}
	merged, err := f.Infra.IsMerged(head, f.Base)
	if err != nil {
		return forge.Proposal{}, false, err
	}
	p := forge.Proposal{
		ID: t["Remediation-Id"], Runbook: t["Runbook"], Policy: t["Policy"], Branch: branch, URL: branch,
		Created: c.Committer.When, Head: head.String(), State: forge.Open,
		Labels: []string{forge.LabelRemediation, "risk:" + t["Risk"]},
	}
	if merged {
		p.State = forge.Merged
		return p, true, nil
	}
	// A closed head pushed again is still closed.
	if c, ok, err := f.Closing(p.ID); err != nil || (ok && c.Head == p.Head) {
		return asClosed(p, c), err == nil, err
	}
	return p, true, nil
}

// Open has nothing to do: the pushed branch is the proposal.
func (f *Forge) Open(ctx context.Context, r forge.Request) (forge.Proposal, error) {
	p, found, err := f.Lookup(ctx, r.Branch)
	if err != nil {
		return forge.Proposal{}, err
	}
	if !found {
		return forge.Proposal{}, fmt.Errorf("local forge: branch %s is not a proposal", r.Branch)
	}
	return p, nil
}

// Recur counts a repeat in the note on the proposal's head.
func (f *Forge) Recur(ctx context.Context, p forge.Proposal, r forge.Request) (int, error) {
	count := 0
	_, err := f.Infra.UpdateNote(ctx, RecurrencesRef, plumbing.NewHash(p.Head),
		"recurrence of "+p.ID, object.Signature{Name: f.AuthorName, Email: f.AuthorEmail, When: r.Seen},
		func(old []byte) ([]byte, error) {
			count = parseCount(old) + 1
			return fmt.Appendf(nil, "count: %d\nlast: %s\nvalue: %g\n", count, r.Seen.UTC().Format(time.RFC3339), r.Value), nil
		})
	if err != nil {
		return 0, fmt.Errorf("local forge: count recurrence of %s: %w", p.ID, err)
	}
	return count, nil
}

func parseCount(note []byte) int {
	for _, line := range strings.Split(string(note), "\n") {
		if v, ok := strings.CutPrefix(line, "count: "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// Proposals lists the remediator's proposal branches, what the limits count: open
// ones, and merged ones created since. Only a head the remediator signed is its own
// (as on GitHub only its own account's pull requests are): a branch anyone with push
// access forged with the trailers would otherwise use up the limits and stop every
// remediation, and its date (a claim) would say when it counts. A signed head's date
// is the remediator's own clock, sealed by its signature.
func (f *Forge) Proposals(_ context.Context, since time.Time) ([]forge.Proposal, error) {
	branches, err := f.Infra.Branches(decision.BranchPrefix)
	if err != nil {
		return nil, err
	}
	var out []forge.Proposal
	for _, b := range branches {
		head, _ := f.Infra.Branch(b)
		p, ok, err := f.proposal(b, head)
		if err != nil {
			return nil, err
		}
		if !ok || p.State != forge.Open && p.Created.Before(since) {
			continue
		}
		own, err := f.signedByRemediator(head)
		if err != nil {
			return nil, err
		}
		if own {
			out = append(out, p)
		}
	}
	return out, nil
}

// signedByRemediator says whether the commit is signed by the remediator's key;
// without a key (nothing merges then) every proposal is taken as its own.
func (f *Forge) signedByRemediator(head plumbing.Hash) (bool, error) {
	if f.Infra.Signer == nil {
		return true, nil
	}
	c, err := f.Infra.Commit(head)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", head, err)
	}
	return signing.VerifyCommit(c, f.Infra.Signer.Public()) == nil, nil
}

// PullRequests is nil: on a plain Git server approvals are signatures in Git notes
// and the remediator merges itself (lifecycle.Reconciler.Run).
func (f *Forge) PullRequests() forge.PullRequests { return nil }

var _ forge.Forge = (*Forge)(nil)
