// Package notify tells people where they live (Slack, Microsoft Teams, any JSON
// webhook) what the remediator did: a proposal waits for their approval, a
// remediation merged, verified, failed (and its rollback was proposed), a runbook was
// suspended by its circuit breaker, an anomaly went to the dead letters. It also
// measures the time from an anomaly's start to its proposal, merge and verification.
//
// Modelled on Alertmanager's notify: each integration is a small Notifier that builds
// one request; whether to retry is decided apart from the request (Retrier); the
// Dispatcher queues every event durably (queue.Outbox) before anything is sent, so
// the pipeline never waits for a receiver and a restart loses nothing, and delivers
// each event once per receiver, with backoff.
package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Kind is what happened.
type Kind string

// The events a receiver can be told of.
const (
	ProposalWaiting Kind = "proposal_waiting"
	Merged          Kind = "merged"
	Verified        Kind = "verified"
	// Failed: verification failed; the rollback was proposed when the runbook has one.
	Failed       Kind = "failed"
	Suspended    Kind = "runbook_suspended"
	DeadLettered Kind = "anomaly_dead_lettered"
)

// Kinds are every kind, in the order of a remediation's life.
var Kinds = []Kind{ProposalWaiting, Merged, Verified, Failed, Suspended, DeadLettered}

// Event is one thing to tell. Everything in it that came from an alert (target,
// detail) is untrusted text: integrations render it as plain text.
type Event struct {
	Kind Kind `json:"kind"`
	// ID is the idempotency key: the same event (from a retried pass, or a replica
	// that restarted in between) has the same ID and is delivered once.
	ID            string    `json:"id"`
	At            time.Time `json:"at"`
	RemediationID string    `json:"remediation_id,omitempty"`
	Runbook       string    `json:"runbook,omitempty"`
	Policy        string    `json:"policy,omitempty"`
	Risk          string    `json:"risk,omitempty"`
	Target        string    `json:"target,omitempty"`
	// Detail says why, in the remediator's words (a reason, an error).
	Detail string `json:"detail,omitempty"`
	// URL is where the proposal is reviewed (the pull request, or the status page).
	URL string `json:"url,omitempty"`
	// Approval is who must approve a waiting proposal.
	Approval *Approval `json:"approval,omitempty"`
	// Approvers are who approved a merged one.
	Approvers []string `json:"approvers,omitempty"`
	// Merge is the merge commit.
	Merge string `json:"merge,omitempty"`
	// Rollback is the branch of the proposed rollback of a failed remediation.
	Rollback string `json:"rollback,omitempty"`
	Times    Times  `json:"times"`
}

// Approval is what a proposal needs before it merges.
type Approval struct {
	Required  int      `json:"required"`
	Reviewers []string `json:"required_reviewers,omitempty"`
	// AutoMerge: no human is needed once the checks pass.
	AutoMerge bool `json:"auto_merge,omitempty"`
}

// Times are the milestones of a remediation known when the event happened.
type Times struct {
	AnomalyStart time.Time `json:"anomaly_start,omitzero"`
	Proposed     time.Time `json:"proposed,omitzero"`
	Merged       time.Time `json:"merged,omitzero"`
	Verified     time.Time `json:"verified,omitzero"`
}

// key is an event's idempotency key: its kind and a digest of what tells it apart
// (the remediation and its commit, the runbook and its suspension, the queue item).
// Only [a-z0-9_-]: it names a file.
func key(k Kind, parts ...string) string {
	sum := sha256.Sum256([]byte(string(k) + "\x00" + strings.Join(parts, "\x00")))
	return string(k) + "-" + hex.EncodeToString(sum[:16])
}

// Title is the event's one line, for a message's heading and logs.
func (e *Event) Title() string {
	switch e.Kind {
	case ProposalWaiting:
		if e.Approval != nil && e.Approval.AutoMerge {
			return "Remediation proposed, merges itself once its checks pass: " + e.Runbook
		}
		return "Remediation proposal waits for approval: " + e.Runbook
	case Merged:
		return "Remediation merged: " + e.Runbook
	case Verified:
		return "Remediation verified: " + e.Runbook
	case Failed:
		if e.Rollback != "" {
			return "Remediation failed, rollback proposed: " + e.Runbook
		}
		return "Remediation failed: " + e.Runbook
	case Suspended:
		return "Runbook suspended by its circuit breaker: " + e.Runbook
	case DeadLettered:
		return "Anomaly moved to the dead letters"
	}
	return string(e.Kind)
}

// Who says who must approve, in words.
func (a *Approval) Who() string {
	if a == nil {
		return ""
	}
	if a.AutoMerge {
		return "nobody: auto-merge once the checks pass"
	}
	n := max(a.Required, 1) // no policy lets a bot merge alone without auto-merge
	who := plural(n, "approval") + " from people with write access"
	if len(a.Reviewers) > 0 {
		who += ", including " + strings.Join(a.Reviewers, ", ")
	}
	return who
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
