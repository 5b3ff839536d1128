package status

import (
	"testing"
	"time"
)

func TestBarIsToScale(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	r := &Remediation{Timeline: []Event{
		{At: t0, What: "anomaly service=api started"},
		{At: t0.Add(time.Minute), What: "proposed by runbook x"},
		{At: t0.Add(3 * time.Minute), What: "approved by alice (via ssh)"},
		{At: t0.Add(4 * time.Minute), What: "approved by bob (via ssh)"},
		{At: t0.Add(5 * time.Minute), What: "merged as abc (approved by alice)"},
		{At: t0.Add(6 * time.Minute), What: "applied (seen by the remediator)"},
		{At: t0.Add(7 * time.Minute), What: "anomaly gone: soak period began"},
		{At: t0.Add(10 * time.Minute), What: "verified: held"},
	}}
	bar := r.Bar()
	want := []struct {
		label string
		x, w  float64
	}{{"until proposed: 1m0s", 0, 100}, {"waiting for approval: 2m0s", 100, 200}, {"until merged: 2m0s", 300, 200},
		{"until applied: 1m0s", 500, 100}, {"until the anomaly went: 1m0s", 600, 100}, {"soak: 3m0s", 700, 300}}
	if len(bar) != len(want) {
		t.Fatalf("%+v", bar)
	}
	for i, w := range want {
		if bar[i].Label != w.label || bar[i].X != w.x || bar[i].W != w.w {
			t.Errorf("segment %d: %+v, want %+v", i, bar[i], w)
		}
	}
	if (&Remediation{Timeline: r.Timeline[:1]}).Bar() != nil {
		t.Error("a bar from one milestone")
	}
}
