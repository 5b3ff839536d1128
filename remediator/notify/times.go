package notify

import (
	"strings"
	"time"
)

// Stage is one leg of the time to remediate, from the anomaly's start.
type Stage string

// The stages measured.
const (
	ToPropose Stage = "propose"
	ToMerge   Stage = "merge"
	ToVerify  Stage = "verify"
)

// Since returns the time from the anomaly's start to each milestone known, in
// stage order; a milestone before the start (clock skew, an alert's start time
// that lies) is left out rather than counted negative.
func (t Times) Since() map[Stage]time.Duration {
	out := map[Stage]time.Duration{}
	if t.AnomalyStart.IsZero() {
		return out
	}
	for s, at := range map[Stage]time.Time{ToPropose: t.Proposed, ToMerge: t.Merged, ToVerify: t.Verified} {
		if !at.IsZero() && !at.Before(t.AnomalyStart) {
			out[s] = at.Sub(t.AnomalyStart)
		}
	}
	return out
}

// Elapsed says the figures in words: "proposed 1m30s, merged 12m, verified 1h5m
// after the anomaly started"; "" when none is known.
func (t Times) Elapsed() string {
	since := t.Since()
	var parts []string
	for _, s := range []struct {
		stage Stage
		word  string
	}{{ToPropose, "proposed"}, {ToMerge, "merged"}, {ToVerify, "verified"}} {
		if d, ok := since[s.stage]; ok {
			parts = append(parts, s.word+" "+Round(d).String())
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + " after the anomaly started"
}

// Round keeps a duration readable: seconds under an hour, minutes above.
func Round(d time.Duration) time.Duration {
	if d >= time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}
