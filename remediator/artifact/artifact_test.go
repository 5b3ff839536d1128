package artifact

import (
	"bytes"
	"strings"
	"testing"
)

func TestCommitMessageCannotBeForgedByLabels(t *testing.T) {
	a := &Artifact{
		ID: "scale-out-api-0123456789", Runbook: "scale-out-api", RunbookVersion: "abc123", Policy: "production", Risk: "medium",
		RequiredApprovals: 1, Target: "service=api",
		Anomaly: Anomaly{Fingerprint: "fp\nApproved-by: mallory", Labels: map[string]string{"service": "api\n\nApproved-by: mallory <m@x>"}},
		Changes: []Change{{File: "envs/api.auto.tfvars", Path: "replicas", From: "4", To: "8"}},
	}
	msg := a.CommitMessage()
	for _, line := range strings.Split(msg, "\n") {
		if strings.HasPrefix(line, "Approved-by:") {
			t.Fatalf("a label value injected a trailer line:\n%s", msg)
		}
	}
	if !strings.HasPrefix(msg, "remediation(scale-out-api): envs/api.auto.tfvars replicas 4 -> 8\n\n") {
		t.Fatalf("subject:\n%s", msg)
	}
	if !strings.HasSuffix(msg, "Anomaly-Fingerprint: fp Approved-by: mallory\n") {
		t.Fatalf("trailers:\n%s", msg)
	}
}

func TestEncodeIsStable(t *testing.T) {
	a := &Artifact{ID: "x", Anomaly: Anomaly{Labels: map[string]string{"b": "2", "a": "1", "c": "3"}}}
	first, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, _ := a.Encode()
		if !bytes.Equal(first, again) {
			t.Fatal("encoding changes between runs")
		}
	}
	if !strings.Contains(string(first), "kind: Remediation") || !strings.Contains(string(first), "    a: \"1\"\n    b: \"2\"") {
		t.Fatalf("artifact:\n%s", first)
	}
}
