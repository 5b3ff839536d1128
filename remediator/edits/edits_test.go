package edits

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

const tfvars = `# Sizing for the API service.
replicas      = 4 # raised during the March incident
instance_type = "m6i.large"
`

const mainTF = `module "api" {
  source = "./modules/service"
}

resource "aws_autoscaling_group" "api" {
  name     = "api"
  max_size = 10 # hard ceiling
  min_size = 2
}

resource "aws_autoscaling_group" "web" {
  max_size = 4
}
`

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api   # the public API
spec:
  replicas: 3 # scaled by remediation
  template:
    spec:
      containers:
        - name: api
          image: "registry.local/api:1.4.2"
          resources:
            limits: {cpu: '500m'}
`

const flags = `{
  "zeta": 1,
  "features": {
    "cache": false,
    "batch_size": 100
  },
  "alpha": [10, 20, 30]
}
`

func workTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

var api = runbooks.Anomaly{Labels: map[string]string{"service": "api", "cluster": "eu1"}, Value: 0.9}

func TestApply(t *testing.T) {
	cases := []struct {
		name    string
		change  runbooks.Change
		want    string // the whole file after the edit
		current any
		changed bool
	}{
		{
			name:    "tfvars keeps comments and alignment",
			change:  runbooks.Change{Kind: "hcl", File: "envs/{{ .labels.cluster }}/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "math.least(current * 2, 20)"},
			want:    strings.Replace(tfvars, "replicas      = 4 #", "replicas      = 8 #", 1),
			current: int64(4), changed: true,
		},
		{
			name:    "resource attribute by type and labels",
			change:  runbooks.Change{Kind: "hcl", File: "main.tf", Path: "resource.aws_autoscaling_group.api.max_size", Value: "current + 5"},
			want:    strings.Replace(mainTF, "max_size = 10 # hard ceiling", "max_size = 15 # hard ceiling", 1),
			current: int64(10), changed: true,
		},
		{
			name:    "string attribute from labels",
			change:  runbooks.Change{Kind: "hcl", File: "envs/eu1/api.auto.tfvars", Path: "instance_type", Value: `"m6i.xlarge"`},
			want:    strings.Replace(tfvars, `"m6i.large"`, `"m6i.xlarge"`, 1),
			current: "m6i.large", changed: true,
		},
		{
			name:    "already in place changes nothing",
			change:  runbooks.Change{Kind: "hcl", File: "envs/eu1/api.auto.tfvars", Path: "replicas", Value: "math.least(current, 4)"},
			want:    tfvars,
			current: int64(4), changed: false,
		},
		{
			name:    "yaml scalar with a comment",
			change:  runbooks.Change{Kind: "yaml", File: "k8s/{{ .labels.service }}/deployment.yaml", Path: "spec.replicas", Value: "current * 2"},
			want:    strings.Replace(deployment, "replicas: 3 #", "replicas: 6 #", 1),
			current: int64(3), changed: true,
		},
		{
			name:    "yaml quoted string in a list keeps its quotes",
			change:  runbooks.Change{Kind: "yaml", File: "k8s/api/deployment.yaml", Path: "spec.template.spec.containers[0].image", Value: `current.replace("1.4.2", "1.4.1")`},
			want:    strings.Replace(deployment, `"registry.local/api:1.4.2"`, `"registry.local/api:1.4.1"`, 1),
			current: "registry.local/api:1.4.2", changed: true,
		},
		{
			name:    "yaml flow mapping value",
			change:  runbooks.Change{Kind: "yaml", File: "k8s/api/deployment.yaml", Path: "spec.template.spec.containers[0].resources.limits.cpu", Value: `"1000m"`},
			want:    strings.Replace(deployment, `{cpu: '500m'}`, `{cpu: '1000m'}`, 1),
			current: "500m", changed: true,
		},
		{
			name:    "json keeps key order and indentation",
			change:  runbooks.Change{Kind: "json", File: "config/flags.json", Path: "features.batch_size", Value: "current / 2"},
			want:    strings.Replace(flags, `"batch_size": 100`, `"batch_size": 50`, 1),
			current: int64(100), changed: true,
		},
		{
			name:    "json bool and list item",
			change:  runbooks.Change{Kind: "json", File: "config/flags.json", Path: "alpha[2]", Value: "current + 1"},
			want:    strings.Replace(flags, "[10, 20, 30]", "[10, 20, 31]", 1),
			current: int64(30), changed: true,
		},
		{
			name:    "json bool",
			change:  runbooks.Change{Kind: "json", File: "config/flags.json", Path: "features.cache", Value: "!current"},
			want:    strings.Replace(flags, `"cache": false`, `"cache": true`, 1),
			current: false, changed: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := workTree(t, map[string]string{
				"envs/eu1/api.auto.tfvars": tfvars, "main.tf": mainTF,
				"k8s/api/deployment.yaml": deployment, "config/flags.json": flags,
			})
			e, err := Apply(root, tc.change, api, nil)
			if err != nil {
				t.Fatal(err)
			}
			if e.Changed != tc.changed || e.Current != tc.current {
				t.Fatalf("changed=%v current=%#v, want %v %#v", e.Changed, e.Current, tc.changed, tc.current)
			}
			got, _ := os.ReadFile(filepath.Join(root, filepath.FromSlash(e.Path)))
			if string(got) != tc.want {
				t.Fatalf("file after edit:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestApplyRefuses(t *testing.T) {
	root := workTree(t, map[string]string{
		"envs/eu1/api.auto.tfvars":     tfvars,
		"main.tf":                      "locals {\n  replicas = var.base * 2\n}\n",
		".github/workflows/ci.yml":     "on: push\n",
		"k8s/api/deployment.yaml":      deployment,
		"network/prod/vpc.auto.tfvars": "cidr = \"10.0.0.0/16\"\n",
	})
	if err := os.Symlink("../.github/workflows/ci.yml", filepath.Join(root, "envs", "sneaky.yml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(root, "envs", "outside.tfvars")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change runbooks.Change
		want   string
		isProt bool
	}{
		{"protected path", runbooks.Change{Kind: "yaml", File: ".github/workflows/ci.yml", Path: "on", Value: `"pull_request"`}, "protected path", true},
		{"protected through a symlink", runbooks.Change{Kind: "yaml", File: "envs/sneaky.yml", Path: "on", Value: `"x"`}, "resolves through a symlink", true},
		{"policy protected path", runbooks.Change{Kind: "hcl", File: "network/prod/vpc.auto.tfvars", Path: "cidr", Value: `"0.0.0.0/0"`}, "protected path", true},
		{"absolute symlink stays inside the tree", runbooks.Change{Kind: "hcl", File: "envs/outside.tfvars", Path: "x", Value: "1"}, "no such file", false},
		{"traversal", runbooks.Change{Kind: "hcl", File: "../{{ .labels.service }}.tfvars", Path: "x", Value: "1"}, "leaves the repository", false},
		{"missing label", runbooks.Change{Kind: "hcl", File: "envs/{{ .labels.region }}.tfvars", Path: "x", Value: "1"}, `map has no entry for key "region"`, false},
		{"not a literal", runbooks.Change{Kind: "hcl", File: "main.tf", Path: "locals.replicas", Value: "current + 1"}, "not a literal", false},
		{"missing attribute", runbooks.Change{Kind: "hcl", File: "envs/eu1/api.auto.tfvars", Path: "replicaz", Value: "1"}, `no attribute "replicaz"`, false},
		{"list in value", runbooks.Change{Kind: "yaml", File: "k8s/api/deployment.yaml", Path: "spec.replicas", Value: "[1, 2]"}, "must yield a number, string or bool", false},
		{"not a scalar", runbooks.Change{Kind: "yaml", File: "k8s/api/deployment.yaml", Path: "spec.template", Value: "1"}, "not a number, string or bool", false},
		{"missing file", runbooks.Change{Kind: "json", File: "nope.json", Path: "a", Value: "1"}, "no such file", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Apply(root, tc.change, api, []string{"network/prod/**"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.isProt != errors.Is(err, ErrProtected) {
				t.Fatalf("errors.Is(err, ErrProtected) = %v", !tc.isProt)
			}
		})
	}
	// Nothing was written anywhere.
	if b, _ := os.ReadFile(filepath.Join(root, ".github/workflows/ci.yml")); string(b) != "on: push\n" {
		t.Fatalf("protected file changed: %q", b)
	}
}

// Numbers a file cannot hold fail the change, in every format, and write nothing:
// NaN and Inf from an alert's value, an integer beyond int64, a value of another kind.
func TestApplyRefusesUnwritableNumbers(t *testing.T) {
	files := map[string]string{
		"a.auto.tfvars": "replicas = 4\nname = \"api\"\n",
		"a.yaml":        "replicas: 4\nname: api\n",
		"a.json":        `{"replicas": 4, "name": "api"}` + "\n",
	}
	for _, file := range []string{"a.auto.tfvars", "a.yaml", "a.json"} {
		kind := map[string]string{"a.auto.tfvars": "hcl", "a.yaml": "yaml", "a.json": "json"}[file]
		for _, tc := range []struct {
			name, path, value string
			anomaly           float64
			want              string
		}{
			{"NaN", "replicas", "value", math.NaN(), "yielded NaN"},
			{"+Inf", "replicas", "value * 2.0", math.Inf(1), "yielded +Inf"},
			{"-Inf", "replicas", "value", math.Inf(-1), "yielded -Inf"},
			{"beyond int64", "replicas", "18446744073709551615u", 0, "out of range"},
			{"a string for a number", "replicas", `"four"`, 0, `the string "four" where the file holds the number 4`},
			{"a number for a string", "name", "7", 0, "the number"},
		} {
			t.Run(kind+" "+tc.name, func(t *testing.T) {
				root := workTree(t, files)
				a := runbooks.Anomaly{Labels: map[string]string{"service": "api"}, Value: tc.anomaly}
				_, err := Apply(root, runbooks.Change{Kind: kind, File: file, Path: tc.path, Value: tc.value}, a, nil)
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), file+": "+tc.path) {
					t.Fatalf("err = %v, want %q naming %s: %s", err, tc.want, file, tc.path)
				}
				if got, _ := os.ReadFile(filepath.Join(root, file)); string(got) != files[file] {
					t.Fatalf("written: %q", got)
				}
			})
		}
	}
}
