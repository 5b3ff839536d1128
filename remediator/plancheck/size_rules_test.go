package plancheck

import (
	"strings"
	"testing"
)

// A plan larger than the limit is refused before it is read; one of exactly the
// limit is read (and judged by what it says).
func TestRulePlanSizeLimitIsInclusive(t *testing.T) {
	const plan = `{"format_version":"1.2","planned_values":{},"resource_changes":[]}`
	if _, err := parseAtMost("plan.json", []byte(plan), len(plan)); err != nil {
		t.Fatalf("a plan of exactly the limit: %v", err)
	}
	_, err := parseAtMost("plan.json", []byte(plan), len(plan)-1)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a plan one byte over the limit: %v", err)
	}
}
