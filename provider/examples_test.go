package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// TestDemoCatalogRoutingTests runs the demo catalog's own `terraform test` suite, the
// way a catalog author does: the provider installed by `terraform init` from a local
// mirror, the catalog published to a fresh repository, sample anomalies routed.
func TestDemoCatalogRoutingTests(t *testing.T) {
	bin := terraformCLI(t)
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
	src := filepath.Join(providerBinaryDir(t), "terraform-provider-remediation")
	if err := exec.Command("cp", src, filepath.Join(pdir, "terraform-provider-remediation_v"+version)).Run(); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(t.TempDir(), "catalog")
	if out, err := exec.Command("cp", "-r", "../examples/demo/catalog", work).CombinedOutput(); err != nil {
		t.Fatalf("copy demo: %v %s", err, out)
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
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
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
