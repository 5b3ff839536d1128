package edits

import (
	"encoding/json"
	"testing"

	"gopkg.in/yaml.v3"
)

func plusOne(current any) (any, error) {
	switch c := current.(type) {
	case int64:
		return c + 1, nil
	case float64:
		return c + 1, nil
	case string:
		return c + "-x", nil
	case bool:
		return !c, nil
	}
	return "v", nil
}

// FuzzEditYAML: files of the infrastructure repository are outside input. An edit
// either fails cleanly or yields YAML that parses.
func FuzzEditYAML(f *testing.F) {
	f.Add([]byte(deployment), "spec.replicas")
	f.Add([]byte(deployment), "spec.template.spec.containers[0].image")
	f.Add([]byte("a: 'it''s'\n"), "a")
	f.Add([]byte("a: \"x\\\"y\" # c\n"), "a")
	f.Add([]byte("a: |\n  block\n"), "a")
	f.Add([]byte("- 1\n- [2, 3]\n"), "[1][0]")
	f.Fuzz(func(t *testing.T, src []byte, path string) {
		out, _, _, err := editYAML(src, path, plusOne)
		if err != nil {
			return
		}
		var n yaml.Node
		if err := yaml.Unmarshal(out, &n); err != nil {
			t.Fatalf("edit produced invalid YAML: %v\n%s", err, out)
		}
	})
}

// FuzzEditJSON: an edit either fails cleanly or yields valid JSON.
func FuzzEditJSON(f *testing.F) {
	f.Add([]byte(flags), "features.batch_size")
	f.Add([]byte(flags), "alpha[1]")
	f.Add([]byte(`{"a":"\u00e9\"x"}`), "a")
	f.Add([]byte(`[1,{"b":[true]}]`), "[1].b[0]")
	f.Fuzz(func(t *testing.T, src []byte, path string) {
		out, _, _, err := editJSON(src, path, plusOne)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("edit produced invalid JSON:\n%s", out)
		}
	})
}

// FuzzEditHCL: an edit either fails cleanly or yields HCL that parses.
func FuzzEditHCL(f *testing.F) {
	f.Add([]byte(tfvars), "replicas")
	f.Add([]byte(mainTF), "resource.aws_autoscaling_group.api.max_size")
	f.Add([]byte("a = \"${x}\"\n"), "a")
	f.Fuzz(func(t *testing.T, src []byte, path string) {
		out, _, _, err := editHCL(src, path, plusOne)
		if err != nil {
			return
		}
		if _, _, _, err := editHCL(out, path, func(c any) (any, error) { return c, nil }); err != nil {
			t.Fatalf("edited file no longer edits: %v\n%s", err, out)
		}
	})
}
