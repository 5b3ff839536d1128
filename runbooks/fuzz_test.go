package runbooks

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// FuzzDecode feeds arbitrary bytes to the catalog decoder: it must never panic, and
// whatever it accepts must survive a round trip through the canonical encoding.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"runbook-scale-out-api.yaml", "runbook-revert-deploy.yaml", "policy-production.yaml"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte("apiVersion: remediation.gitops.dev/v1\nkind: Policy\nmetadata: {name: p}\nspec: {}\n"))
	f.Add([]byte("apiVersion: remediation.gitops.dev/v1\nkind: Runbook\nmetadata: {name: r}\nspec: {risk: low, trigger: {matchers: ['a=\"b\"']}, changes: [{kind: revert, paths: ['x/**'], within: 1h}]}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("kind: Runbook\nspec: {changes: [{file: '{{ template \"x\" }}'}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Decode("fuzz.yaml", data)
		if err != nil {
			if doc != nil {
				t.Fatal("a document returned with an error")
			}
			return
		}
		enc, err := Encode(doc)
		if err != nil {
			t.Fatalf("accepted document does not encode: %v", err)
		}
		again, err := Decode("fuzz.yaml", enc)
		if err != nil {
			t.Fatalf("canonical form rejected: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(doc, again) {
			t.Fatalf("round trip changed the document\n%s", enc)
		}
		enc2, err := Encode(again)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %v", err)
		}
	})
}

// FuzzParseMatchers checks that a matcher we accept prints back to one that parses to
// the same matcher, as Alertmanager's own round trip does.
func FuzzParseMatchers(f *testing.F) {
	for _, s := range []string{
		`alertname="HighLatency"`, `service=~"api-.*"`, `env!="dev"`, `job!~"node|blackbox"`,
		`foo=bar`, `{quote="She said: \"Hi\""}`, `statuscode=~"5.."`, `a=""`, `a=~"(unclosed"`, `=x`, `a="\n"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMatchers([]string{s})
		if err != nil {
			return
		}
		m := ms[0]
		again, err := labels.ParseMatcher(m.String())
		if err != nil {
			t.Fatalf("%q parsed to %s, which does not parse: %v", s, m, err)
		}
		if again.Type != m.Type || again.Name != m.Name || again.Value != m.Value {
			t.Fatalf("%q: round trip %s -> %s", s, m, again)
		}
		// Matching must not panic for any value.
		_ = matchLabels(ms, map[string]string{m.Name: m.Value})
	})
}
