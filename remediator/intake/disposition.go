package intake

import "github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"

// Disposition is what the intake does with one alert of a notification: queue it for
// the worker, or answer it at the door. It is a routing word, not an outcome of a
// remediation (forge.Outcome) nor what became of an anomaly (decision.Action),
// though its no-match is that action's word.
type Disposition string

// Dispositions at the intake.
const (
	// Queued: a runbook acts on it (or the catalog is not loaded yet); it is written
	// to the queue.
	Queued Disposition = "queued"
	// NoMatch: no enabled runbook acts on it; answered, never queued.
	NoMatch = Disposition(decision.NoMatch)
	// BadValue: the alert's value is unusable (NaN, Inf, not a number); the alert is
	// ignored, the rest of its notification goes on.
	BadValue Disposition = "bad-value"
)
