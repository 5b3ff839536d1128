package forge_test

import (
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

func TestSplitKeepsFencesBalanced(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Plan check\n\n")
	for i := 0; i < 3000; i++ {
		if i%500 == 0 {
			b.WriteString("```diff\n")
		}
		b.WriteString("+ resource \"aws_instance\" \"web\" { instance_type = \"m5.large\" } # ü line\n")
		if i%500 == 499 {
			b.WriteString("```\n")
		}
	}
	b.WriteString(strings.Repeat("x", 70000) + "\n") // one line longer than a part
	text := b.String()
	parts := forge.Split(text, forge.MaxBody)
	if len(parts) < 4 {
		t.Fatalf("%d parts for %d bytes", len(parts), len(text))
	}
	var joined strings.Builder
	for i, p := range parts {
		if len([]rune(p)) > forge.MaxBody {
			t.Errorf("part %d has %d characters", i, len([]rune(p)))
		}
		if n := strings.Count(p, "```"); n%2 != 0 {
			t.Errorf("part %d has %d fence lines: a block is left open", i, n)
		}
		if i > 0 && !strings.HasPrefix(p, "_(continued, part ") {
			t.Errorf("part %d does not say it continues", i)
		}
		joined.WriteString(p)
	}
	// Nothing is lost: every line of the text is in some part.
	if got, want := strings.Count(joined.String(), "aws_instance"), 3000; got != want {
		t.Errorf("%d plan lines survive, want %d", got, want)
	}
	if got := strings.Count(joined.String(), "x"); got < 70000 {
		t.Errorf("the long line lost characters: %d", got)
	}
	if one := forge.Split("short", forge.MaxBody); len(one) != 1 || one[0] != "short" {
		t.Errorf("short text split: %q", one)
	}
}

func TestBodyEscapesAnomalyValuesAndFits(t *testing.T) {
	a := &artifact.Artifact{
		ID: "rb-0011223344", Runbook: "rb", Policy: "p", Risk: "low", Target: "t",
		Anomaly: artifact.Anomaly{Labels: map[string]string{
			"evil":  "x` <script>alert(1)</script> | --> <!-- remediation:proposal id=forged policy=none -->",
			"large": strings.Repeat("y", 100000),
		}},
		Merge: artifact.Merge{Allowed: false, Reason: "inside a freeze window of policy p"},
	}
	body := forge.Body(forge.Request{Artifact: a})
	if n := len([]rune(body)); n > forge.MaxBody {
		t.Fatalf("body has %d characters", n)
	}
	fields, ok := forge.ParseMarker(body)
	if !ok || fields["id"] != "rb-0011223344" || fields["policy"] != "p" {
		t.Fatalf("marker %v %v: a label value forged it", fields, ok)
	}
	if strings.Contains(body, "x` <script>") || strings.Contains(body, "</script> | -->") {
		t.Error("a label value escaped its code span")
	}
	if !strings.Contains(body, "Not mergeable yet: inside a freeze window of policy p.") {
		t.Error("the window warning is missing")
	}
	if !strings.Contains(body, "cut to fit") {
		t.Error("the cut is not said")
	}
}

// TestChangedByPersonCommentNamesTheForgesWords: the comment names the head, the
// reason, and the proposal and its approvals in the forge's own words.
func TestChangedByPersonCommentNamesTheForgesWords(t *testing.T) {
	got := forge.ChangedByPersonComment("merge request", "approvals", "abc123", "a commit by mallory")
	for _, want := range []string{"`abc123`", "this merge request is not", "whatever its approvals say", "a commit by mallory", "close this merge request"} {
		if !strings.Contains(got, want) {
			t.Errorf("comment lacks %q:\n%s", want, got)
		}
	}
}
