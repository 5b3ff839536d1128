package forge_test

import (
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Pull request bodies come from GitHub, where anyone with write access can edit them.
func FuzzParseMarker(f *testing.F) {
	f.Add("<!-- remediation:proposal id=rb-0011223344 runbook=rb policy=p risk=low -->\n## body")
	f.Add("<!-- remediation:proposal id= -->")
	f.Add("text <!-- remediation:proposal id=a=b runbook=--> -->")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		fields, ok := forge.ParseMarker(body)
		if ok && fields["id"] == "" {
			t.Fatalf("ok without an id: %v", fields)
		}
		for k, v := range fields {
			if strings.ContainsAny(k+v, " \t\n") {
				t.Fatalf("field %q=%q holds whitespace", k, v)
			}
		}
	})
}

// Comment text (plan output) is outside input too: every part fits, fences balance,
// and no line is lost.
func FuzzSplit(f *testing.F) {
	f.Add("# t\n```diff\n+ a\n- b\n```\n", 256)
	f.Add(strings.Repeat("```\nx\n", 100), 300)
	f.Add(strings.Repeat("é", 1000), 256)
	f.Fuzz(func(t *testing.T, text string, limit int) {
		if limit < 256 || limit > 4096 || len(text) > 1<<16 {
			return
		}
		parts := forge.Split(text, limit)
		total := 0
		for i, p := range parts {
			if len(p) > limit {
				t.Fatalf("part %d: %d bytes > %d", i, len(p), limit)
			}
			total += len(p)
		}
		if total < len(strings.TrimSpace(text))-len(parts) {
			t.Fatalf("lost text: %d parts hold %d bytes of %d", len(parts), total, len(text))
		}
	})
}
