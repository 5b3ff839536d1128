package audit

import (
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// TimeTo is a remediation's time to remediate, from its anomaly's start (as the
// artifact recorded it) to its proposal, its merge and its verified outcome: the
// same figures serve's remediator_time_to_*_seconds histograms count. A milestone
// not reached, or dated before the start (a sender's clock, or a lie), is absent.
type TimeTo struct {
	AnomalyStart time.Time `json:"anomaly_start"`
	Propose      *Seconds  `json:"propose_seconds,omitempty"`
	Merge        *Seconds  `json:"merge_seconds,omitempty"`
	Verify       *Seconds  `json:"verify_seconds,omitempty"`
}

// Seconds is a duration in JSON as seconds.
type Seconds float64

func (s *Seconds) String() string {
	if s == nil {
		return "-"
	}
	d := time.Duration(float64(*s) * float64(time.Second))
	if d >= time.Hour {
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

// timeTo reads the figures of one merged remediation; nil without a start time.
func timeTo(a *artifact.Artifact, mergedAt time.Time, outcome forge.Outcome, outcomeNote []byte) *TimeTo {
	var verified time.Time
	if outcome == forge.OutcomeVerified {
		verified = noteTime(outcomeNote, "checked_at")
	}
	return NewTimeTo(a, mergedAt, verified)
}

// NewTimeTo reads the figures from an artifact and the merge and verification
// times (zero: not yet); nil without a start time. The status page shows them too.
func NewTimeTo(a *artifact.Artifact, mergedAt, verifiedAt time.Time) *TimeTo {
	start, err := time.Parse(time.RFC3339, a.Anomaly.StartsAt)
	if err != nil || start.IsZero() {
		return nil
	}
	since := func(at time.Time) *Seconds {
		if at.IsZero() || at.Before(start) {
			return nil
		}
		s := Seconds(at.Sub(start).Seconds())
		return &s
	}
	t := &TimeTo{AnomalyStart: start.UTC(), Merge: since(mergedAt)}
	if p, err := time.Parse(time.RFC3339, a.ProposedAt); err == nil {
		t.Propose = since(p)
	}
	t.Verify = since(verifiedAt)
	return t
}

func noteTime(note []byte, key string) time.Time {
	for _, line := range strings.Split(string(note), "\n") {
		if v, ok := strings.CutPrefix(line, key+": "); ok {
			if at, err := time.Parse(time.RFC3339, strings.TrimSpace(v)); err == nil {
				return at
			}
		}
	}
	return time.Time{}
}

// ttr is the figures for a table cell: propose / merge / verify.
func (t *TimeTo) ttr() string {
	if t == nil {
		return "-"
	}
	return t.Propose.String() + " / " + t.Merge.String() + " / " + t.Verify.String()
}
