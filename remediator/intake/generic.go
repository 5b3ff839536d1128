package intake

import (
	"fmt"
	"math"
	"time"
)

// genericPayload is our own format, for any detector that is not Alertmanager.
type genericPayload struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Value       *float64          `json:"value"`
	StartsAt    *time.Time        `json:"starts_at"`
	EndsAt      *time.Time        `json:"ends_at"`
	Status      string            `json:"status"`
	Source      string            `json:"source"`
}

// ParseGeneric reads one anomaly in the generic format:
// {"labels": {...}, "annotations": {...}, "value": 0.9, "starts_at": RFC 3339,
// "ends_at": RFC 3339, "status": "firing"|"resolved", "source": "grafana"}. now fills
// a missing starts_at; ends_at, when given, is when it resolved (or will have).
func ParseGeneric(body []byte, now time.Time) (Anomaly, error) {
	var p genericPayload
	if err := decodeStrict(body, &p); err != nil {
		return Anomaly{}, err
	}
	if err := checkLabels("labels", p.Labels, true); err != nil {
		return Anomaly{}, err
	}
	if err := checkLabels("annotations", p.Annotations, false); err != nil {
		return Anomaly{}, err
	}
	a := Anomaly{Labels: p.Labels, Annotations: p.Annotations, Status: p.Status, Source: p.Source, StartsAt: now.UTC()}
	if a.Status == "" {
		a.Status = StatusFiring
	}
	if a.Status != StatusFiring && a.Status != StatusResolved {
		return Anomaly{}, &Error{Field: "status", Msg: fmt.Sprintf("%q is neither firing nor resolved", a.Status)}
	}
	if a.Source == "" {
		a.Source = "generic"
	}
	if p.Value != nil {
		if math.IsNaN(*p.Value) || math.IsInf(*p.Value, 0) {
			return Anomaly{}, &Error{Field: "value", Msg: "must be a finite number"}
		}
		a.Value = *p.Value
	}
	if p.StartsAt != nil {
		a.StartsAt = *p.StartsAt
	}
	if p.EndsAt != nil {
		if p.EndsAt.Before(a.StartsAt) {
			return Anomaly{}, &Error{Field: "ends_at", Msg: "is before starts_at"}
		}
		a.EndsAt = *p.EndsAt
	}
	a.Fingerprint = Fingerprint(a.Labels)
	return a, nil
}
