package forge

import (
	"context"
	"errors"
	"time"
)

// Forge is one forge as the proposer and the lifecycle use it: local Git, GitHub,
// Gitea. cmd/remediator builds one from forge.type; nothing else names a forge.
type Forge interface {
	// Lookup finds the newest proposal from a branch, in any state.
	Lookup(ctx context.Context, branch string) (Proposal, bool, error)
	// Open opens the proposal of a pushed branch; opening twice returns the first.
	Open(ctx context.Context, r Request) (Proposal, error)
	// Recur records a repeat of the anomaly on an open proposal and returns the count.
	Recur(ctx context.Context, p Proposal, r Request) (int, error)
	// Proposals lists open proposals and those created since the given time.
	Proposals(ctx context.Context, since time.Time) ([]Proposal, error)
	// Close withdraws an open proposal, saying why.
	Close(ctx context.Context, p Proposal, reason string) error
	// Supersede closes a proposal made under a catalog that changed since, so that
	// closing it starts no cooldown.
	Supersede(ctx context.Context, p Proposal, reason string) error
	// PullRequests is the one ability in which forges truly differ, declared: the
	// forge's own review objects (pull requests with reviews, commit statuses and a
	// merge call that compare-and-swaps on the head), or nil where approvals are
	// signatures in Git and the remediator merges itself (the local forge).
	PullRequests() PullRequests
}

// PullRequests is a forge with its own review objects: what a reconcile pass reads
// of its pull requests and how it merges and reports on them. Everything it returns
// was written by people the remediator does not trust; the lifecycle's gates judge it.
type PullRequests interface {
	// Proposals lists open pull requests and those created since the given time.
	Proposals(ctx context.Context, since time.Time) ([]Proposal, error)
	// OpenProposals lists only the open ones: all a pass over them needs.
	OpenProposals(ctx context.Context) ([]Proposal, error)
	// PullRequest reads one pull request again, right before the merge call.
	PullRequest(ctx context.Context, number int) (Proposal, error)
	// Reviews lists every review of a pull request, oldest first, with the states
	// mapped to APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED (and PENDING).
	Reviews(ctx context.Context, number int) ([]Review, error)
	// Pushers are the accounts that authored, committed or pushed any commit of
	// the pull request: none of them may approve it.
	Pushers(ctx context.Context, number int) ([]string, error)
	// Access is an account's access to the repository now: only writers approve.
	Access(ctx context.Context, login string) (Access, error)
	// Timeline is who closed, reopened, force-pushed to the pull request and who
	// dismissed which review.
	Timeline(ctx context.Context, number int) ([]Event, error)
	// Checks are the named checks on a commit, from forge.check_reporters only.
	Checks(ctx context.Context, sha string) (map[string]CheckState, error)
	// TeamMember says whether login is an active member of team ("org/team").
	TeamMember(ctx context.Context, team, login string) (bool, error)
	// Merge merges the pull request at exactly sha and returns the merge commit.
	// Its refusals are this package's sentinels: ErrHeadMoved, ErrNotMergeable,
	// ErrRetryLater.
	Merge(ctx context.Context, number int, sha, title, message string) (string, error)
	// Open opens a pull request (the rollback's).
	Open(ctx context.Context, r Request) (Proposal, error)
	// Close and Supersede withdraw a pull request, saying why.
	Close(ctx context.Context, p Proposal, reason string) error
	Supersede(ctx context.Context, p Proposal, reason string) error
	// ReportOutcome shows a merged remediation's outcome: a status, a comment and
	// a label.
	ReportOutcome(ctx context.Context, branch, mergeSHA string, outcome Outcome, detail string) error
	// ReportChangedByPerson shows once that a proposal was changed by a person and
	// is left to people's own process.
	ReportChangedByPerson(ctx context.Context, p Proposal, reason string) error
	// ReportCheck sets the commit status name on sha, as CI's reporter does
	// (`remediator applied`, `plan-check --comment`).
	ReportCheck(ctx context.Context, sha, name string, state CheckState, description string) error
	// UpsertComment writes the one comment of the pull request carrying marker.
	UpsertComment(ctx context.Context, number int, marker, body string) error
}

// ErrRetryLater is a forge's answer that it cannot merge yet for a passing reason
// (Gitea answers 405 while it computes a new head's mergeability): the next pass
// tries again, and nothing about the proposal is wrong.
var ErrRetryLater = errors.New("the forge cannot merge yet; the next pass tries again")
