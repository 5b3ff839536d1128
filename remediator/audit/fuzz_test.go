package audit_test

import (
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/audit"
)

// Commit messages are written by anyone who can push.
func FuzzTrailers(f *testing.F) {
	f.Add("Merge remediation x\n\nsubject\n\nRemediation-Id: x\nApproved-by: A <a@x>\nApproved-by: B <b@x>\n")
	f.Add("no trailers")
	f.Add("a\n\nKey: v\nnot a trailer\n")
	f.Fuzz(func(t *testing.T, msg string) {
		for _, kv := range audit.Trailers(msg) {
			if kv[0] == "" || strings.ContainsAny(kv[0], " \t\n") || strings.Contains(kv[1], "\n") {
				t.Fatalf("bad trailer %q", kv)
			}
		}
	})
}
