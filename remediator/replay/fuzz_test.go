package replay_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/replay"
)

// Replay inputs are files people hand over: whatever they hold, reading them either
// fails with the file and line, or gives anomalies that each say when they started.
func FuzzFromJSONLines(f *testing.F) {
	f.Add([]byte(`{"labels":{"alertname":"HighLatency","service":"api"},"value":0.9,"starts_at":"2026-11-02T10:00:00Z","ends_at":"2026-11-02T10:20:00Z"}` + "\n"))
	f.Add([]byte("# a comment\n\n" + `{"labels":{"a":"b"},"starts_at":"2026-11-02T10:00:00Z","annotations":{"remediation.gitops.dev/outcome":"failed"}}`))
	f.Add([]byte(`{"labels":{"a":"b"}}`))
	f.Add([]byte(`{"labels":{"a":"b"},"starts_at":"2026-11-02T10:00:00Z","ends_at":"2026-11-01T10:00:00Z"}`))
	f.Add([]byte("{\"labels\":{\"a\":\"b\"},\"starts_at\":\"2026-11-02T10:00:00Z\"}\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		as, err := replay.FromJSONLines("events.jsonl", bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "events.jsonl") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, a := range as {
			if a.StartsAt.IsZero() || len(a.Labels) == 0 || (!a.EndsAt.IsZero() && a.EndsAt.Before(a.StartsAt)) {
				t.Fatalf("accepted %+v", a)
			}
			if o := replay.OutcomeOf(a); o != "" && o != forge.OutcomeVerified && o != forge.OutcomeFailed {
				t.Fatalf("accepted outcome %q", o)
			}
		}
	})
}
