package records

import (
	"fmt"
	"strings"
	"time"
)

// ProgressRef holds what verification has seen of a merged remediation so far: when
// its change was first seen applied and since when its anomaly has been gone. A
// restarted remediator, or another replica, goes on from there; the outcome note
// under OutcomeRef ends it.
const ProgressRef = "refs/notes/remediation-verification"

// Progress is a merged remediation's way to its outcome.
type Progress struct {
	// AppliedAt is the first pass that saw the applied check succeed.
	AppliedAt time.Time
	// ResolvedSince is the first pass after AppliedAt that found the anomaly gone:
	// the soak period runs from there.
	ResolvedSince time.Time
	// DecidedOn is the evidence verification started on: the check reports, by hash,
	// that said the change was applied (local forge).
	DecidedOn []string
}

// ParseProgress reads a progress note; unknown or malformed lines are skipped.
func ParseProgress(note []byte) Progress {
	var p Progress
	for _, line := range strings.Split(string(note), "\n") {
		key, val, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		if key == DecidedOnTrailer {
			p.DecidedOn = append(p.DecidedOn, strings.TrimSpace(val))
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(val))
		if err != nil {
			continue
		}
		switch key {
		case "applied_at":
			p.AppliedAt = t
		case "resolved_since":
			p.ResolvedSince = t
		}
	}
	return p
}

// Text writes the times to the nanosecond: the soak's range queries start at
// ResolvedSince, and a second earlier may still hold the last of the alert.
func (p Progress) Text() string {
	var b strings.Builder
	if !p.AppliedAt.IsZero() {
		fmt.Fprintf(&b, "applied_at: %s\n", p.AppliedAt.UTC().Format(time.RFC3339Nano))
	}
	if !p.ResolvedSince.IsZero() {
		fmt.Fprintf(&b, "resolved_since: %s\n", p.ResolvedSince.UTC().Format(time.RFC3339Nano))
	}
	for _, d := range p.DecidedOn {
		fmt.Fprintf(&b, "%s: %s\n", DecidedOnTrailer, d)
	}
	return b.String()
}
