package intake

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseAlertmanager(t *testing.T) {
	as, err := ParseAlertmanager(readFile(t, "alertmanager-v4.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 {
		t.Fatalf("%d anomalies, want 2", len(as))
	}
	a := as[0]
	if a.Labels["service"] != "api-gateway" || a.Value != 0.82 || a.Status != StatusFiring || a.Fingerprint != "b1a2c3d4e5f60718" || a.Source != SourceAlertmanager {
		t.Fatalf("first anomaly: %+v", a)
	}
	if !a.StartsAt.Equal(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("startsAt %v", a.StartsAt)
	}
	b := as[1]
	if b.Status != StatusResolved || b.Fingerprint != Fingerprint(b.Labels) || b.Value != 0 {
		t.Fatalf("second anomaly: %+v", b)
	}
}

func TestParseRejects(t *testing.T) {
	am := string(readFile(t, "alertmanager-v4.json"))
	gen := string(readFile(t, "generic.json"))
	cases := []struct {
		name, body, want string
		alertmanager     bool
	}{
		{"wrong version", strings.Replace(am, `"version": "4"`, `"version": "3"`, 1), `version: unsupported webhook version "3"`, true},
		{"unknown field", strings.Replace(am, `"receiver": "remediator",`, `"receiver": "remediator", "tenant": "x",`, 1), "tenant: unknown field", true},
		{"malformed", strings.Replace(am, `"status": "firing",`, `"status": "firing"`, 1), "line 4, column 4: malformed JSON", true},
		{"wrong type", strings.Replace(am, `"truncatedAlerts": 0`, `"truncatedAlerts": "none"`, 1), "truncatedAlerts: expected uint64, found a JSON string", true},
		{"no alerts", strings.Replace(am, `"alerts": [`, `"alerts": [], "x": [`, 1), "unknown field", true},
		{"bad status", strings.Replace(am, `"status": "resolved"`, `"status": "pending"`, 1), `alerts[1].status: "pending" is neither firing nor resolved`, true},
		{"bad value", strings.Replace(am, `"value": "0.82"`, `"value": "high"`, 1), `alerts[0].annotations.value: "high" is not a number`, true},
		{"no labels", strings.Replace(am, `"labels": {"alertname": "QueueBacklog", "queue": "emails", "env": "staging"}`, `"labels": {}`, 1), "alerts[1].labels: at least one label is required", true},
		{"trailing data", am + "{}", "unexpected data after the JSON document", true},
		{"empty", "", "the body is empty", true},
		{"generic unknown field", strings.Replace(gen, `"source"`, `"sauce"`, 1), "sauce: unknown field", false},
		{"generic no labels", `{"value": 1}`, "labels: at least one label is required", false},
		{"generic bad status", `{"labels": {"a": "b"}, "status": "bad"}`, `status: "bad" is neither`, false},
		{"generic wrong type", `{"labels": {"a": 1}}`, "line 1, column 19: labels: expected string, found a JSON number", false},
		{"generic bad time", `{"labels": {"a": "b"}, "starts_at": "yesterday"}`, `invalid time "yesterday": want RFC 3339`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.alertmanager {
				_, err = ParseAlertmanager([]byte(tc.body))
			} else {
				_, err = ParseGeneric([]byte(tc.body), now)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseGenericAndDetection(t *testing.T) {
	as, err := Parse(readFile(t, "generic.json"), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].Source != "grafana" || as[0].Value != 1200 || as[0].Status != StatusFiring {
		t.Fatalf("%+v", as)
	}
	as, err = Parse([]byte(`{"labels": {"alertname": "X"}}`), now)
	if err != nil || !as[0].StartsAt.Equal(now) || as[0].Source != "generic" {
		t.Fatalf("defaults: %+v %v", as, err)
	}
	as, err = Parse(readFile(t, "alertmanager-v4.json"), now)
	if err != nil || len(as) != 2 {
		t.Fatalf("alertmanager through Parse: %d %v", len(as), err)
	}
	if Fingerprint(map[string]string{"a": "1", "b": "2"}) != Fingerprint(map[string]string{"b": "2", "a": "1"}) {
		t.Fatal("fingerprint depends on map order")
	}
	if Fingerprint(map[string]string{"a": "1b"}) == Fingerprint(map[string]string{"a1": "b"}) {
		t.Fatal("fingerprint confuses label boundaries")
	}
}

// FuzzParse: anything a client sends is either an error or anomalies with labels.
func FuzzParse(f *testing.F) {
	f.Add(readFile(f, "alertmanager-v4.json"))
	f.Add(readFile(f, "generic.json"))
	f.Add([]byte(`{"version":"4","alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"2026-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"labels":{"a":"b"},"value":1e308}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		as, err := Parse(body, now)
		if err != nil {
			return
		}
		for _, a := range as {
			if len(a.Labels) == 0 || a.Fingerprint == "" || (a.Status != StatusFiring && a.Status != StatusResolved) {
				t.Fatalf("accepted an invalid anomaly: %+v", a)
			}
		}
	})
}

// The fast decoder accepts only what encoding/json, strict, accepts, and reads it the
// same way: the slow path stays the reference.
func FuzzFastDecoderAgreesWithEncodingJSON(f *testing.F) {
	f.Add([]byte(`{"version":"4","groupKey":"g","truncatedAlerts":0,"status":"firing","receiver":"r","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","alerts":[{"status":"firing","labels":{"alertname":"A"},"annotations":{"value":"1.5"},"startsAt":"2026-11-24T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"f"}]}`))
	f.Add([]byte(`{"version":"4","alerts":[{"labels":{"a":"\u00e9\ud800"},"startsAt":"2026-11-24T10:00:00Z","status":"firing"}]} `))
	f.Add([]byte(`{"version":"4","version":"5","alerts":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, fastErr := ParseAlertmanager(body)
		var slowMsg map[string]any
		slowErr := json.Unmarshal(body, &slowMsg)
		if fastErr == nil && slowErr != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", slowErr)
		}
		if fastErr != nil {
			return
		}
		// Decode once more through the reference path alone and compare.
		ref, _, err := parseAlertmanager(body, decodeStrictReference)
		if err != nil {
			t.Fatalf("fast path accepted, reference refused: %v", err)
		}
		if len(ref) != len(fast) {
			t.Fatalf("%d anomalies, reference %d", len(fast), len(ref))
		}
		for i := range ref {
			if fmt.Sprint(ref[i]) != fmt.Sprint(fast[i]) {
				t.Fatalf("anomaly %d differs:\n%v\n%v", i, fast[i], ref[i])
			}
		}
	})
}
