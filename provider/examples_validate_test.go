package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// registrySource is the provider's address as the docs and the Registry name it.
const registrySource = "gitops-remediation/remediation"

// Every Terraform configuration under examples/ (the snippets docs/ shows, the demo)
// is what a user copies: each that uses this provider names it in required_providers
// with its source and a version constraint (without them `terraform init` looks for
// hashicorp/remediation), and each passes `terraform validate` against the provider
// built from this tree, with no registry and no network.
func TestExamplesValidate(t *testing.T) {
	bin := terraformCLI(t)
	tree := filepath.Join(t.TempDir(), "examples")
	if out, err := exec.Command("cp", "-r", "../examples", tree).CombinedOutput(); err != nil {
		t.Fatalf("copy examples: %v\n%s", err, out)
	}
	dirs := terraformDirs(t, tree)
	if len(dirs) < 8 {
		t.Fatalf("found %d configurations under examples/: %v", len(dirs), dirs)
	}
	env := offlineCLIEnv(t)
	functions := cliSupportsFunctions(t, bin)
	for _, dir := range dirs {
		rel, _ := filepath.Rel(tree, dir)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			if !functions && callsProviderFunctions(t, dir) {
				// Provider functions need Terraform 1.8 or OpenTofu 1.7; OpenTofu 1.6
				// cannot parse them, as the function's own test says.
				t.Skipf("examples/%s calls a provider function, which this CLI (before 1.7/1.8) cannot parse", rel)
			}
			if usesProvider(t, dir) {
				if err := checkRequiredProviders(dir); err != nil {
					t.Errorf("examples/%s: %v", rel, err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			// init installs local modules (and the test files' ones) and picks the
			// provider's version from the local mirror; nothing else may come.
			if out, err := runCLI(ctx, bin, dir, env, "init", "-backend=false", "-input=false", "-no-color"); err != nil {
				t.Fatalf("examples/%s: init: %v\n%s", rel, err, out)
			}
			cmd := exec.CommandContext(ctx, bin, "validate", "-json", "-no-color")
			cmd.Dir, cmd.Env = dir, env
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if problems := validateProblems(out); err != nil || problems != "" {
				t.Fatalf("examples/%s: validate: %v\n%s\n%s", rel, err, problems, stderr.String())
			}
		})
	}
}

// terraformDirs are the directories holding .tf files, as terraform reads them.
func terraformDirs(t *testing.T, root string) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".tf") && !slices.Contains(dirs, filepath.Dir(path)) {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// offlineCLIEnv points Terraform at the provider built from this tree: dev_overrides
// for validate, and a local mirror holding it as the next release (init selects a
// version there even under dev_overrides, so the examples' version constraint must
// admit it). Nothing else is installable, so a configuration naming any other
// provider (hashicorp/remediation, say) fails at once instead of reaching for a
// registry.
func offlineCLIEnv(t *testing.T) []string {
	t.Helper()
	const version = "0.1.0"
	pdir := providerBinaryDir(t)
	host := "registry.terraform.io"
	if h := os.Getenv("TF_ACC_PROVIDER_HOST"); h != "" {
		host = h
	}
	mirror := t.TempDir()
	platform := filepath.Join(mirror, host, registrySource, version, runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(platform, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", filepath.Join(pdir, "terraform-provider-remediation"), filepath.Join(platform, "terraform-provider-remediation_v"+version)).CombinedOutput(); err != nil {
		t.Fatalf("copy provider into the mirror: %v\n%s", err, out)
	}
	rc := filepath.Join(t.TempDir(), "cli.tfrc")
	cfg := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "%s/%s" = %q
  }
  filesystem_mirror {
    path = %q
  }
}
`, host, registrySource, pdir, mirror)
	if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
}

var providerUse = regexp.MustCompile(`(?m)^\s*(resource|data)\s+"remediation_|^\s*provider\s+"remediation"|provider::remediation::`)

func usesProvider(t *testing.T, dir string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if providerUse.Match(src) {
			return true
		}
	}
	return false
}

// checkRequiredProviders: some .tf file of dir declares
// required_providers { remediation = { source = registrySource, version = "..." } }.
func checkRequiredProviders(dir string) error {
	files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read %s: %w", f, err)
		}
		file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
		if diags.HasErrors() {
			return fmt.Errorf("parse %s: %w", f, diags)
		}
		for _, tf := range file.Body.(*hclsyntax.Body).Blocks {
			if tf.Type != "terraform" {
				continue
			}
			for _, rp := range tf.Body.Blocks {
				if rp.Type != "required_providers" || rp.Body.Attributes["remediation"] == nil {
					continue
				}
				return checkRequirement(f, rp.Body.Attributes["remediation"])
			}
		}
	}
	return fmt.Errorf("uses the remediation provider without required_providers { remediation = { source = %q, version = ... } }", registrySource)
}

func checkRequirement(file string, attr *hclsyntax.Attribute) error {
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() || !v.Type().IsObjectType() {
		return fmt.Errorf("%s: required_providers.remediation is not an object of source and version", file)
	}
	str := func(name string) string {
		if !v.Type().HasAttribute(name) || v.GetAttr(name).Type() != cty.String || v.GetAttr(name).IsNull() {
			return ""
		}
		return v.GetAttr(name).AsString()
	}
	if str("source") != registrySource {
		return fmt.Errorf("%s: required_providers.remediation.source is %q, want %q", file, str("source"), registrySource)
	}
	if strings.TrimSpace(str("version")) == "" {
		return fmt.Errorf("%s: required_providers.remediation has no version constraint", file)
	}
	return nil
}

// validateProblems is empty when `terraform validate -json` says valid with no
// error; otherwise the diagnostics, one a line.
func validateProblems(out []byte) string {
	var res struct {
		Valid       bool `json:"valid"`
		ErrorCount  int  `json:"error_count"`
		Diagnostics []struct {
			Severity string `json:"severity"`
			Summary  string `json:"summary"`
			Detail   string `json:"detail"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return "validate printed no JSON result: " + err.Error() + "\n" + string(out)
	}
	if res.Valid && res.ErrorCount == 0 {
		return ""
	}
	var lines []string
	for _, d := range res.Diagnostics {
		lines = append(lines, d.Severity+": "+d.Summary+": "+d.Detail)
	}
	return strings.Join(lines, "\n")
}

// cliSupportsFunctions says whether the CLI parses provider functions: Terraform
// 1.8 and OpenTofu 1.7 do. OpenTofu reports its own version as terraform_version.
func cliSupportsFunctions(t *testing.T, bin string) bool {
	t.Helper()
	out, err := exec.Command(bin, "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version: %v", bin, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s version -json: %v\n%s", bin, err, out)
	}
	var major, minor int
	if _, err := fmt.Sscanf(v.Version, "%d.%d", &major, &minor); err != nil {
		t.Fatalf("%s version %q: %v", bin, v.Version, err)
	}
	tofu := strings.Contains(filepath.Base(bin), "tofu")
	switch {
	case major > 1:
		return true
	case tofu:
		return minor >= 7
	default:
		return minor >= 8
	}
}

// callsProviderFunctions says whether a configuration calls a provider function.
func callsProviderFunctions(t *testing.T, dir string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "provider::") {
			return true
		}
	}
	return false
}
