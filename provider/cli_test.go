package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// These helpers drive the real terraform (or tofu) binary against a built provider,
// as a user's terraform apply would, for what terraform-plugin-testing cannot do:
// two applies at once, and timing whole applies.

var (
	buildOnce     sync.Once
	builtProvider string
	buildErr      error

	floorOnce     sync.Once
	floorProvider string
	floorErr      error
)

// providerBinaryDir builds the provider once per test binary and returns its folder.
func providerBinaryDir(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "remediation-provider-")
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-remediation"), "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		// The apply benchmark's peer, a local_file-like provider, beside it.
		cmd = exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-localbench"), "./testdata/localbench")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build localbench: %w\n%s", err, out)
			return
		}
		builtProvider = dir
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return builtProvider
}

// floorProviderDir builds, once, the provider with the catalog write skipped (the
// benchfloor build tag): the apply benchmark's floor. Its folder holds it under the
// provider's own name, for a dev_overrides of its own.
func floorProviderDir(tb testing.TB) string {
	tb.Helper()
	floorOnce.Do(func() {
		dir, err := os.MkdirTemp("", "remediation-provider-floor-")
		if err != nil {
			floorErr = err
			return
		}
		cmd := exec.Command("go", "build", "-tags", "benchfloor", "-o", filepath.Join(dir, "terraform-provider-remediation"), "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			floorErr = fmt.Errorf("go build -tags benchfloor: %w\n%s", err, out)
			return
		}
		floorProvider = dir
	})
	if floorErr != nil {
		tb.Fatal(floorErr)
	}
	return floorProvider
}

// terraformCLI is the binary under test, as for the acceptance tests.
func terraformCLI(tb testing.TB) string {
	tb.Helper()
	if os.Getenv("TF_ACC") == "" {
		tb.Skip("set TF_ACC=1 and TF_ACC_TERRAFORM_PATH to run tests against a real terraform binary (make test does)")
	}
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		tb.Fatal("TF_ACC_TERRAFORM_PATH is not set: run make tools, then make test")
	}
	return bin
}

// workdir writes main.tf and a CLI configuration that points Terraform at the built
// provider, so no registry is involved.
func workdir(tb testing.TB, mainTF string) (string, []string) {
	tb.Helper()
	return workdirWith(tb, mainTF, providerBinaryDir(tb))
}

// workdirWith is workdir with the remediation provider taken from pdir.
func workdirWith(tb testing.TB, mainTF, pdir string) (string, []string) {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mainTF), 0o644); err != nil {
		tb.Fatal(err)
	}
	rc := filepath.Join(dir, "cli.tfrc")
	local := providerBinaryDir(tb)
	cfg := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/gitops-remediation/remediation" = %q
    "registry.opentofu.org/gitops-remediation/remediation" = %q
    "registry.terraform.io/gitops-remediation/localbench" = %q
    "registry.opentofu.org/gitops-remediation/localbench" = %q
  }
  direct {}
}
`, pdir, pdir, local, local)
	if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
		tb.Fatal(err)
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	return dir, env
}

func runCLI(ctx context.Context, bin, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// apply runs terraform apply; safe to call from any goroutine.
func apply(bin, dir string, env []string) error {
	// A thousand resources on a busy two-core machine take minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if out, err := runCLI(ctx, bin, dir, env, "apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
		return fmt.Errorf("%s apply in %s: %w\n%s", filepath.Base(bin), dir, err, tail(out, 40))
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// manyRunbooks configures n runbooks named <prefix>-NNN.
func manyRunbooks(repo, prefix string, n int) string {
	return fmt.Sprintf(`
terraform {
  required_providers {
    remediation = { source = "gitops-remediation/remediation" }
  }
}

provider "remediation" {
  repository = %q
}

resource "remediation_runbook" "r" {
  for_each = toset([for i in range(%d) : format("%s-%%03d", i)])
  name     = each.key
  risk     = "low"
  trigger = {
    matchers = ["alertname=\"${each.key}\""]
    group_by = ["service"]
  }
  changes = [{
    kind  = "hcl"
    file  = "envs/prod/{{ .labels.service }}.auto.tfvars"
    path  = "replicas"
    value = "math.least(current + 1, 10)"
  }]
}
`, repo, n, prefix)
}
