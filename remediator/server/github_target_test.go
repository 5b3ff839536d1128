package server

import (
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

var targetSeeds = []struct {
	event, payload string
	want           forge.Target
}{
	{"pull_request", `{"action":"opened","number":7,"pull_request":{"number":7,"head":{"sha":"aaa"}}}`, forge.Target{Number: 7, Commit: "aaa"}},
	{"pull_request_review", `{"action":"submitted","pull_request":{"number":9,"head":{"sha":"bbb"}},"review":{"state":"approved"}}`, forge.Target{Number: 9, Commit: "bbb"}},
	{"status", `{"sha":"ccc","state":"success","context":"plan"}`, forge.Target{Commit: "ccc"}},
	{"check_run", `{"action":"completed","check_run":{"head_sha":"ddd"}}`, forge.Target{Commit: "ddd"}},
	{"check_suite", `{"action":"completed","check_suite":{"head_sha":"eee"}}`, forge.Target{Commit: "eee"}},
	{"pull_request", `not json`, forge.Target{}},
	{"push", `{"ref":"refs/heads/main"}`, forge.Target{}},
}

// A delivery names where to look: the pull request, or the commit a check reports
// on; anything else names nothing (a full pass).
func TestGitHubTarget(t *testing.T) {
	for _, tc := range targetSeeds {
		if got := githubTarget(tc.event, []byte(tc.payload)); got != tc.want {
			t.Errorf("%s %s: %+v, want %+v", tc.event, tc.payload, got, tc.want)
		}
	}
}

func FuzzGitHubTarget(f *testing.F) {
	for _, tc := range targetSeeds {
		f.Add(tc.event, []byte(tc.payload))
	}
	// Whatever a delivery carries, reading it never panics, and only the events that
	// name a pull request or a commit point anywhere: any other event, or a payload
	// that does not parse, asks for a whole pass.
	names := map[string]bool{"pull_request": true, "pull_request_review": true, "check_run": true, "check_suite": true, "status": true}
	f.Fuzz(func(t *testing.T, event string, payload []byte) {
		got := githubTarget(event, payload)
		if !names[event] && got != (forge.Target{}) {
			t.Fatalf("event %q pointed at %+v", event, got)
		}
	})
}
