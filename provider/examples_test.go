package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// TestDemoCatalogRoutingTests runs the demo catalog's own `terraform test` suite, the
// way a catalog author does: the provider installed by `terraform init` from a local
// mirror, the catalog published to a fresh repository, sample anomalies routed.
func TestDemoCatalogRoutingTests(t *testing.T) {
	bin, work, env := terraformModule(t, "../examples/demo/catalog")
	repo := gittest.BareRepo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := runCLI(ctx, bin, work, env, "init", "-input=false", "-no-color"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	out, err := runCLI(ctx, bin, work, env, "test", "-no-color", "-var", "catalog_repository="+repo)
	if err != nil {
		t.Fatalf("terraform test failed: %v\n%s", err, out)
	}
	if !strings.Contains(out, "4 passed, 0 failed") {
		t.Fatalf("unexpected test summary:\n%s", out)
	}
}

// terraformModule copies a module to a temporary directory and returns the terraform
// binary, the directory and the environment that installs this provider from a
// local mirror, as `terraform init` does for a catalog author.
func terraformModule(t *testing.T, src string) (bin, work string, env []string) {
	t.Helper()
	bin = terraformCLI(t)
	const version = "0.1.0"
	mirror := t.TempDir()
	host := "registry.terraform.io"
	if os.Getenv("TF_ACC_PROVIDER_HOST") != "" {
		host = os.Getenv("TF_ACC_PROVIDER_HOST")
	}
	pdir := filepath.Join(mirror, host, "gitops-remediation", "remediation", version, runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	binary := filepath.Join(providerBinaryDir(t), "terraform-provider-remediation")
	if err := exec.Command("cp", binary, filepath.Join(pdir, "terraform-provider-remediation_v"+version)).Run(); err != nil {
		t.Fatal(err)
	}
	work = filepath.Join(t.TempDir(), filepath.Base(src))
	if out, err := exec.Command("cp", "-r", src, work).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v %s", src, err, out)
	}
	rc := filepath.Join(t.TempDir(), "cli.tfrc")
	cfg := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["%s/gitops-remediation/remediation"]
  }
  direct {
    exclude = ["%s/gitops-remediation/remediation"]
  }
}
`, mirror, host, host)
	if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, work, append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
}

// TestAutonomyInTerraformTest asserts a runbook's earned autonomy in `terraform test`
// through the remediation_route data source, as a catalog author would before
// giving a runbook more autonomy: two verified runs of the published version earn
// auto-merge; a failure takes it away.
func TestAutonomyInTerraformTest(t *testing.T) {
	bin, work, env := terraformModule(t, "testdata/autonomy")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	catalog := gittest.BareRepo(t)
	store, err := catalogstore.Open(ctx, catalogstore.Options{Repository: catalog})
	if err != nil {
		t.Fatal(err)
	}
	rb := runbooks.NewRunbook("scale-out-api")
	rb.Spec.Risk = runbooks.RiskMedium
	rb.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="HighLatency"`}, GroupBy: []string{"service"}}
	rb.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "current + 1"}}
	staging := runbooks.NewPolicy("staging")
	// Staging asks no approval at medium risk and lets it merge alone once earned: the
	// route says auto_merge exactly when the record has earned it (the gate's rule).
	staging.Spec.Approvals.Medium = 0
	staging.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 2}
	for _, doc := range []runbooks.Document{rb, staging} {
		if _, err := store.Put(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	version, err := runbooks.Version(rb)
	if err != nil {
		t.Fatal(err)
	}
	infra := gittest.BareRepo(t)
	clone := t.TempDir()
	gittest.Run(t, "", "clone", "-q", infra, clone)
	gittest.Run(t, clone, "config", "user.name", "t")
	gittest.Run(t, clone, "config", "user.email", "t@localhost")
	gittest.Run(t, clone, "commit", "-q", "--allow-empty", "-m", "initial")
	gittest.Run(t, clone, "branch", "-M", "main")
	// The remediator's key signs its merges and seals its outcome notes; only those count.
	keyFile := filepath.Join(t.TempDir(), "signing_key")
	if err := signing.GenerateKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	key, err := signing.LoadKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	merged := func(o string, byRemediator bool) {
		gittest.Run(t, clone, "commit", "-q", "--allow-empty", "-m", "change")
		gittest.Run(t, clone, "checkout", "-q", "HEAD~1")
		sign := []string{"-c", "gpg.format=ssh", "-c", "user.signingKey=" + keyFile, "-c", "commit.gpgSign=" + fmt.Sprint(byRemediator)}
		gittest.Run(t, clone, append(sign, "merge", "-q", "--no-ff", "-m", "Merge remediation\n\nRemediation-Id: scale-out-api-0123456789\nRunbook: scale-out-api\nRunbook-Version: "+version+"\n", "main")...)
		gittest.Run(t, clone, "branch", "-f", "main", "HEAD")
		gittest.Run(t, clone, "checkout", "-q", "main")
		note := []byte("outcome: " + o + "\n")
		if byRemediator {
			if note, err = records.Seal(key, records.KindOutcome, plumbing.NewHash(gittest.Run(t, clone, "rev-parse", "HEAD")), string(note)); err != nil {
				t.Fatal(err)
			}
		}
		noteFile := filepath.Join(t.TempDir(), "note")
		gittest.WriteFile(t, noteFile, string(note))
		gittest.Run(t, clone, "notes", "--ref=remediation", "add", "-F", noteFile, "HEAD")
		gittest.Run(t, clone, "push", "-q", "-f", "origin", "main", "refs/notes/remediation")
	}
	outcome := func(o string) { merged(o, true) }
	if out, err := runCLI(ctx, bin, work, env, "init", "-input=false", "-no-color"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	expect := func(may bool, streak int) {
		t.Helper()
		out, err := runCLI(ctx, bin, work, env, "test", "-no-color", "-var", "catalog_repository="+catalog, "-var", "outcomes_repository="+infra,
			"-var", "remediator_public_key="+strings.TrimSpace(string(pub)),
			"-var", fmt.Sprintf("want_may_auto_merge=%t", may), "-var", fmt.Sprintf("want_streak=%d", streak))
		if err != nil || !strings.Contains(out, "1 passed, 0 failed") {
			t.Fatalf("terraform test expecting may_auto_merge=%t streak=%d: %v\n%s", may, streak, err, out)
		}
	}
	outcome("verified")
	expect(false, 1)
	outcome("verified")
	expect(true, 2)
	outcome("failed")
	expect(false, 0)
	// Someone with push access merges by hand with the same trailers and notes
	// "outcome: verified": it earns nothing.
	merged("verified", false)
	merged("verified", false)
	expect(false, 0)
}

// TestGuidesHCL validates the guides' Terraform with terraform itself: each guide's
// configuration blocks as one module, its `run` blocks as a test file of it.
func TestGuidesHCL(t *testing.T) {
	files, err := filepath.Glob("../docs/guides/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("guides: %v %v", files, err)
	}
	fence := regexp.MustCompile("(?ms)^```hcl\\n(.*?)^```$")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var module, tests []string
		for _, m := range fence.FindAllStringSubmatch(string(data), -1) {
			if strings.HasPrefix(strings.TrimSpace(m[1]), "run ") {
				tests = append(tests, m[1])
			} else {
				module = append(module, m[1])
			}
		}
		if len(module) == 0 {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "guide")
			if err := os.MkdirAll(src, 0o755); err != nil {
				t.Fatal(err)
			}
			main := strings.Join(module, "\n")
			if !strings.Contains(main, "required_providers") {
				main = "terraform {\n  required_providers {\n    remediation = {\n      source = \"gitops-remediation/remediation\"\n    }\n  }\n}\n\n" + main
			}
			if err := os.WriteFile(filepath.Join(src, "main.tf"), []byte(main), 0o644); err != nil {
				t.Fatal(err)
			}
			if len(tests) > 0 {
				if err := os.WriteFile(filepath.Join(src, "guide.tftest.hcl"), []byte(strings.Join(tests, "\n")), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			bin, work, env := terraformModule(t, src)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if out, err := runCLI(ctx, bin, work, env, "init", "-input=false", "-no-color"); err != nil {
				t.Fatalf("init: %v\n%s", err, out)
			}
			if out, err := runCLI(ctx, bin, work, env, "validate", "-no-color"); err != nil {
				t.Fatalf("terraform validate of %s: %v\n%s", filepath.Base(f), err, out)
			}
		})
	}
}
