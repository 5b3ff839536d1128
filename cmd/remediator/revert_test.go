package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// revertCatalog publishes a runbook that undoes the latest change to envs/*.auto.tfvars
// within two hours, and returns the config and the infrastructure repository.
func revertCatalog(t *testing.T) (cfg, infra, work string) {
	t.Helper()
	cfg = publishedCatalogWith(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) {
		rb.Spec.Changes = []runbooks.Change{{Kind: runbooks.ChangeRevert, Paths: []string{"envs/*.auto.tfvars", "envs/new/**"}, Within: runbooks.Duration(2 * time.Hour)}}
	})
	infra = infraRepo(t, cfg)
	work = filepath.Join(t.TempDir(), "work")
	gittest.Run(t, "", "clone", "-q", infra, work)
	return cfg, infra, work
}

func commitAll(t *testing.T, work, msg string) string {
	t.Helper()
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "commit", "-qm", msg)
	gittest.Run(t, work, "push", "-q", "origin", "main")
	return gittest.Run(t, work, "rev-parse", "HEAD")
}

func TestProposeRevert(t *testing.T) {
	cfg, infra, work := revertCatalog(t)
	branch := "remediation/" + decision.ID("scale-out-api", "service=api-gateway")

	// Nothing changed recently: nothing to revert, and it says why.
	code, out, errs := proposeRun(t, cfg, alert("api-gateway"))
	if code != 0 || !strings.HasPrefix(out, "unchanged: ") || !strings.Contains(out, "nothing to revert: no commit on main within 2h") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}

	// A bad deploy: a resize, a new file, and an unrelated README edit.
	gittest.WriteFile(t, filepath.Join(work, "envs/api-gateway.auto.tfvars"), "# API gateway sizing\nreplicas      = 4 # raised in March\ninstance_type = \"t3.nano\"\n")
	gittest.WriteFile(t, filepath.Join(work, "envs/new/extra.auto.tfvars"), "enabled = true\n")
	gittest.WriteFile(t, filepath.Join(work, "README.md"), "docs\n")
	bad := commitAll(t, work, "shrink the gateway")

	code, out, errs = proposeRun(t, cfg, alert("api-gateway"), "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res propose.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Action != propose.Opened {
		t.Fatalf("%v %s", err, out)
	}
	if got := gittest.Run(t, infra, "show", branch+":envs/api-gateway.auto.tfvars"); !strings.Contains(got, `instance_type = "m6i.large"`) {
		t.Fatalf("not reverted:\n%s", got)
	}
	if _, err := gittest.Output(infra, "cat-file", "-e", branch+":envs/new/extra.auto.tfvars"); err == nil {
		t.Fatal("the file the bad commit created is still there")
	}
	if got := gittest.Run(t, infra, "show", branch+":README.md"); got != "docs" {
		t.Fatalf("a path outside the runbook's was reverted: %q", got)
	}
	data := gittest.Run(t, infra, "show", branch+":"+artifact.Path(res.ID))
	art, err := artifact.Decode([]byte(data + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(art.Reverts) != 1 || art.Reverts[0].Commit != bad || art.Reverts[0].Subject != "shrink the gateway" || len(art.Changes) != 2 {
		t.Fatalf("artifact reverts %+v changes %+v", art.Reverts, art.Changes)
	}
}

func TestProposeRevertUndoesTheNewestAndNeverAProtectedPath(t *testing.T) {
	cfg, infra, work := revertCatalog(t)
	branch := "remediation/" + decision.ID("scale-out-api", "service=api-gateway")
	gittest.WriteFile(t, filepath.Join(work, "envs/api-gateway.auto.tfvars"), "replicas = 1\n")
	commitAll(t, work, "older")
	gittest.WriteFile(t, filepath.Join(work, "envs/api-second.auto.tfvars"), "replicas = 9\n")
	newest := commitAll(t, work, "newest")
	code, out, errs := proposeRun(t, cfg, alert("api-gateway"))
	if code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if got := gittest.Run(t, infra, "show", branch+":envs/api-second.auto.tfvars"); got != "replicas = 3" {
		t.Fatalf("newest not reverted: %q", got)
	}
	if got := gittest.Run(t, infra, "show", branch+":envs/api-gateway.auto.tfvars"); got != "replicas = 1" {
		t.Fatalf("the older commit was reverted too: %q", got)
	}
	if !strings.Contains(gittest.Run(t, infra, "show", branch+":"+artifact.Path(decision.ID("scale-out-api", "service=api-gateway"))), newest) {
		t.Fatal("the artifact does not name the reverted commit")
	}

	// A revert whose patterns reach a protected path is refused, nothing pushed.
	cfg2 := publishedCatalogWith(t, func(rb *runbooks.Runbook, _ *runbooks.Policy) {
		rb.Spec.Changes = []runbooks.Change{{Kind: runbooks.ChangeRevert, Paths: []string{"**/*.yml"}, Within: runbooks.Duration(2 * time.Hour)}}
	})
	infra2 := infraRepo(t, cfg2)
	work2 := filepath.Join(t.TempDir(), "w2")
	gittest.Run(t, "", "clone", "-q", infra2, work2)
	gittest.WriteFile(t, filepath.Join(work2, ".github/workflows/ci.yml"), "on: pull_request\n")
	commitAll(t, work2, "ci change")
	code, _, errs = proposeRun(t, cfg2, alert("api-gateway"))
	if code != 2 || !strings.Contains(errs, "is protected") {
		t.Fatalf("protected: exit %d: %s", code, errs)
	}
	if refs := gittest.Run(t, infra2, "for-each-ref", "refs/heads/remediation/"); refs != "" {
		t.Fatalf("pushed: %s", refs)
	}
}
