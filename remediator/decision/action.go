package decision

// Action is what became of one anomaly or one proposal: the one word propose's
// results, the reconcile pass's, replay's reports, the status page and the metrics'
// action labels share. Routing a runbook has its Disposition; how a merged
// remediation ended is forge.Outcome.
type Action string

// What proposing did about an anomaly (propose.Result), and what replay says
// would have become of one.
const (
	// Opened: a proposal was opened.
	Opened Action = "opened"
	// Updated: a proposal for the same target was open: counted as a recurrence.
	Updated Action = "updated"
	// Unchanged: the open proposal already says what a new one would.
	Unchanged Action = "unchanged"
	// Suppressed: cooldown, a rejection or a limit held it back.
	Suppressed Action = "suppressed"
	// Closed: the anomaly resolved before the merge; its open proposal was closed.
	Closed Action = "closed"
	// Suspended: the policy's circuit breaker stopped the runbook.
	Suspended Action = "suspended"
	// NoMatch: no enabled runbook acts on the anomaly.
	NoMatch Action = "no-match"
	// Proposed (replay): a proposal would have opened and waited for its approvals.
	Proposed Action = "proposed"
	// AutoMerged (replay): a proposal would have opened and merged without a human.
	AutoMerged Action = "auto-merged"
)

// What a reconcile pass did with a proposal or a merged remediation
// (lifecycle.Result). A pass that records a merged remediation's outcome says it
// with the outcome's own word (forge.Outcome: verified, failed, not-applied), so
// the action label of remediator_lifecycle_total is one of these or one of those.
const (
	Merged  Action = "merged"
	Waiting Action = "waiting"
	// WouldMerge and WouldClose are what a dry run says a pass would do.
	WouldMerge Action = "would-merge"
	WouldClose Action = "would-close"
	// Verifying: a merged remediation on its way to an outcome, with the step it
	// waits on (dry runs, and passes with ReportSteps, say so).
	Verifying Action = "verifying"
)
