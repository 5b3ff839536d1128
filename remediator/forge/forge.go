// Package forge holds what every forge (local Git, GitHub) shares: the proposal as a
// forge sees it, the request to open one, and the readable text of a pull request
// with the hidden markers the remediator finds its own pull requests and comments by.
package forge

import (
	"errors"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
)

// State of a proposal on the forge.
type State string

// States a proposal can be in.
const (
	Open   State = "open"
	Closed State = "closed" // closed without merge: rejected
	Merged State = "merged"
)

// Proposal is one proposal as the forge knows it.
type Proposal struct {
	ID      string
	Branch  string
	Policy  string
	Runbook string
	State   State
	// Number is the pull request number on forges that number them.
	Number int
	// URL is where a person reviews the proposal (a pull request, or the branch).
	URL     string
	Created time.Time
	// Closed is when the proposal was closed or merged.
	Closed time.Time
	// Head is the commit the proposal currently points at.
	Head string
	// Body is the current description, compared before an update.
	Body string
	// Labels are the labels the proposal carries.
	Labels []string
	// Author is who opened the proposal on the forge (the remediator's account).
	Author string
	// ReviewRequests counts the reviews still requested (people and teams).
	ReviewRequests int
	// Base is the branch the pull request merges into, on forges where a person can
	// change it (GitHub): the remediator merges only into its configured base.
	Base string
	// RejectedBy is who, other than the remediator, closed the proposal (at
	// RejectedAt): a rejection, whatever became of the proposal after (reopened) and
	// whatever labels it carries. Empty on forges that do not say who closed it.
	RejectedBy string
	RejectedAt time.Time
}

// Request is what a forge needs to open or refresh a proposal: the pushed branch,
// the base it merges into, and the artifact that says why.
type Request struct {
	Branch   string
	Base     string
	Head     string
	Artifact *artifact.Artifact
	// Reviewers are people (login) and teams (org/team) whose review is requested.
	Reviewers []string
	// DiffStat summarises the change per file, for the description.
	DiffStat []FileStat
	// Seen is when this occurrence of the anomaly arrived.
	Seen time.Time
	// Value is the anomaly's value at this occurrence.
	Value float64
}

// FileStat is one file of the change.
type FileStat struct {
	File      string
	Additions int
	Deletions int
}

// Labels a proposal carries: every remediation, its risk tier, and rollback for the
// revert of a remediation whose verification failed.
func Labels(a *artifact.Artifact) []string {
	labels := []string{LabelRemediation, "risk:" + a.Risk}
	if a.RollbackOf != "" {
		labels = append(labels, LabelRollback)
	}
	return labels
}

// LabelRollback marks the revert of a remediation whose verification failed.
const LabelRollback = "rollback"

// LabelRemediation marks every proposal of the remediator.
const LabelRemediation = "remediation"

// LabelResolved marks a proposal closed because its anomaly resolved before the merge.
const LabelResolved = "resolved"

// LabelSuperseded marks a proposal closed because the catalog it was made under
// changed; the anomaly is proposed again under the current one.
const LabelSuperseded = "superseded"

// Review is one review of a pull request as the forge reports it.
type Review struct {
	// ID is the forge's id of the review, which a dismissal names.
	ID    int64
	Login string
	// Bot is true for an App or bot account.
	Bot       bool
	State     string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
	CommitID  string
	Submitted time.Time
}

// Event is one event of a pull request's timeline the gates read.
type Event struct {
	// Kind is the forge's name of the event: closed, reopened, merged,
	// review_dismissed, head_ref_force_pushed.
	Kind  string
	Actor string
	At    time.Time
	// ReviewID and ReviewState are a dismissal's: the review dismissed and its state
	// before (APPROVED, CHANGES_REQUESTED).
	ReviewID    int64
	ReviewState string
}

// Events GitHub's timeline names, which the gates read.
const (
	EventClosed          = "closed"
	EventReopened        = "reopened"
	EventReviewDismissed = "review_dismissed"
	EventForcePushed     = "head_ref_force_pushed"
)

// Access is an account's access to the repository, as the forge reports it.
type Access struct {
	// Role is the name of the account's role: read, triage, write, maintain, admin,
	// a custom role's name, or none.
	Role string
	// Write is true when the role lets the account push: write, maintain, admin, or a
	// custom role built on one of them.
	Write bool
}

// ErrNotMergeable is a forge's refusal to merge a proposal for a reason of its own
// (branch protection, a conflict it sees): the proposal waits and says why.
var ErrNotMergeable = errors.New("the forge refuses to merge")

// ErrHeadMoved is a forge's refusal to merge a head other than the one named: the
// proposal's branch moved since the pass read (and its reviews were counted on) it.
var ErrHeadMoved = errors.New("the head moved since it was reviewed")

// CheckState is how a named check (a commit status or a check run) stands on a commit.
type CheckState string

// Check states, from the gate's point of view: only success lets a proposal merge.
const (
	CheckSuccess CheckState = "success"
	CheckPending CheckState = "pending"
	CheckFailure CheckState = "failure"
)

// Worse returns the state that blocks more: failure, then pending, then success. A
// name reported both as a status and as a check run counts as the worse of the two.
func Worse(a, b CheckState) CheckState {
	rank := map[CheckState]int{CheckSuccess: 0, CheckPending: 1, CheckFailure: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Outcome is how a merged remediation ended, as its outcome note records it.
type Outcome string

// Outcomes of a merged remediation.
const (
	// OutcomeVerified: applied, then the anomaly stayed gone for the soak period.
	OutcomeVerified Outcome = "verified"
	// OutcomeFailed: applied, but the anomaly did not go, or came back during the
	// soak; its rollback is proposed and the circuit breaker counts it.
	OutcomeFailed Outcome = "failed"
	// OutcomeNotApplied: never reported applied (or the apply failed): no evidence
	// about the runbook either way, so no rollback and no breaker count.
	OutcomeNotApplied Outcome = "not-applied"
)

// Labels of a merged remediation's outcome.
const (
	LabelVerified           = "verified"
	LabelVerificationFailed = "verification-failed"
	LabelNotApplied         = "not-applied"
)
