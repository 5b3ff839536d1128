package configdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/strictyaml"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
)

const root = "../.."

// The checked-in reference and schema are what the config types say now: a key
// added, renamed or re-documented without `make generate` fails here (and CI).
func TestGeneratedFilesInSync(t *testing.T) {
	files, err := Render(root)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatalf("%s: %v (run make generate)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make generate and commit it", name)
		}
	}
}

// Every key of the file is in the reference, the nested ones by their path: the
// reference is field by field, not a summary.
func TestReferenceNamesEveryKey(t *testing.T) {
	fields, err := Fields(filepath.Join(root, "remediator", "config"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(Markdown(fields))
	for _, path := range []string{"state_dir", "forge.check_reporters", "alertmanager.restart_grace", "notify.receivers[].events", "limits.per_hour_per_runbook"} {
		if !strings.Contains(md, "| `"+path+"` |") {
			t.Errorf("the reference has no row for %s", path)
		}
	}
	if n := len(flatten(fields)); n < 40 {
		t.Errorf("%d keys: the walk lost some", n)
	}
}

// minimal holds exactly the keys the reference calls required.
const minimal = `catalog:
  repository: /srv/catalog.git
infrastructure:
  repository: /srv/infra.git
state_dir: /var/lib/remediator
`

// The keys the reference and schema call required are the ones Load refuses a file
// without, and no others: the minimal file loads, and without any one of them it
// fails naming that key.
func TestRequiredKeysAreLoads(t *testing.T) {
	if _, err := loadString(t, minimal); err != nil {
		t.Fatalf("the required keys alone do not load: %v", err)
	}
	for _, key := range required {
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(minimal), &doc); err != nil {
			t.Fatal(err)
		}
		deleteKey(doc, key)
		raw, _ := yaml.Marshal(doc)
		_, err := loadString(t, string(raw))
		if !namesField(err, key) {
			t.Errorf("without %s Load says %v, want an error naming it", key, err)
		}
	}
}

// Each value the reference lists for a key Load accepts, and one it does not list
// Load refuses, naming the key.
func TestEnumsAreLoads(t *testing.T) {
	for path, values := range enums() {
		for _, v := range append(values, "not-a-value") {
			file := enumFile(path, v)
			_, err := loadString(t, file)
			refused := namesField(err, strings.NewReplacer("[]", "[0]").Replace(path))
			if refused != (v == "not-a-value") {
				t.Errorf("%s: %q: Load says %v", path, v, err)
			}
		}
	}
}

// The schema accepts the configurations the project ships and refuses what the
// strict loader refuses: an unknown key, a wrong type, a missing required key, a
// value outside an enum, a malformed duration.
func TestSchemaAgreesWithLoad(t *testing.T) {
	schema := compileSchema(t)
	demo, err := os.ReadFile(filepath.Join(root, "examples", "demo", "remediator.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, file string
		valid      bool
	}{
		{"minimal", minimal, true},
		{"demo", string(demo), true},
		{"chart's rendered config", chartConfig(t), true},
		{"unknown key", minimal + "liste: 127.0.0.1:8080\n", false},
		{"nested unknown key", minimal + "forge:\n  tpye: local\n", false},
		{"wrong type", minimal + "intake:\n  max_queued: lots\n", false},
		{"missing required", "catalog:\n  repository: /srv/c.git\nstate_dir: /s\n", false},
		{"unknown forge", minimal + "forge:\n  type: bitbucket\n", false},
		{"bad duration", minimal + "alertmanager:\n  restart_grace: 5 minutes\n", false},
		{"good duration", minimal + "alertmanager:\n  restart_grace: 1h30m\n", true},
		{"unknown event", minimal + "notify:\n  receivers:\n    - {name: a, type: slack, url_env: U, events: [merged, exploded]}\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var doc any
			if err := yaml.Unmarshal([]byte(c.file), &doc); err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(doc)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			err = schema.Validate(inst)
			if (err == nil) != c.valid {
				t.Errorf("schema says %v, want valid=%v", err, c.valid)
			}
			if strings.Contains(c.name, "chart") || c.name == "demo" {
				return // they name files outside the test (keys, signers)
			}
			if _, loadErr := loadString(t, c.file); (loadErr == nil) != c.valid {
				t.Errorf("Load says %v, want valid=%v: the schema and the loader disagree", loadErr, c.valid)
			}
		})
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join(root, SchemaFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// chartConfig is remediator.yaml of the ConfigMap in the plain manifests (the Helm
// chart rendered with its defaults).
func chartConfig(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "kubernetes", "remediator.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var obj struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
		}
		if err := dec.Decode(&obj); err != nil {
			t.Fatalf("no ConfigMap with remediator.yaml in the plain manifests: %v", err)
		}
		if obj.Kind == "ConfigMap" && obj.Data["remediator.yaml"] != "" {
			return obj.Data["remediator.yaml"]
		}
	}
}

func loadString(t *testing.T, content string) (*config.Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "remediator.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return config.Load(p)
}

func namesField(err error, field string) bool {
	var errs strictyaml.Errors
	if !errors.As(err, &errs) {
		return false
	}
	for _, e := range errs {
		if e.Field == field || strings.HasPrefix(e.Field, field+"[") {
			return true
		}
	}
	return false
}

func deleteKey(doc map[string]any, path string) {
	parent, key, nested := strings.Cut(path, ".")
	if !nested {
		delete(doc, path)
		return
	}
	if m, ok := doc[parent].(map[string]any); ok {
		delete(m, key)
	}
}

// enumFile is the minimal file with the key at path set to v (and what that value
// needs beside it to be judged on the value alone).
func enumFile(path, v string) string {
	switch path {
	case "forge.type":
		return minimal + "forge:\n  type: " + v + "\n  owner: acme\n  repository: infra\n  token_env: GITHUB_TOKEN\n"
	case "notify.receivers[].type":
		return minimal + "notify:\n  receivers:\n    - {name: r, type: " + v + ", url_env: U}\n"
	default: // notify.receivers[].events
		return minimal + "notify:\n  receivers:\n    - {name: r, type: slack, url_env: U, events: [" + v + "]}\n"
	}
}
