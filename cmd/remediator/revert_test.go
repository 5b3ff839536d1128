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
	code, out, errs := proposeRun(t, cfg, alertAt("api-gateway", time.Now()))
	if code != 0 || !strings.HasPrefix(out, "unchanged: ") || !strings.Contains(out, "nothing to revert: no commit on main within 2h before the anomaly started") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}

	// A bad deploy: a resize, a new file, and an unrelated README edit.
	gittest.WriteFile(t, filepath.Join(work, "envs/api-gateway.auto.tfvars"), "# API gateway sizing\nreplicas      = 4 # raised in March\ninstance_type = \"t3.nano\"\n")
	gittest.WriteFile(t, filepath.Join(work, "envs/new/extra.auto.tfvars"), "enabled = true\n")
	gittest.WriteFile(t, filepath.Join(work, "README.md"), "docs\n")
	bad := commitAll(t, work, "shrink the gateway")

	code, out, errs = proposeRun(t, cfg, alertAt("api-gateway", time.Now()), "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res propose.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Action != decision.Opened {
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
	code, out, errs := proposeRun(t, cfg, alertAt("api-gateway", time.Now()))
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
	code, _, errs = proposeRun(t, cfg2, alertAt("api-gateway", time.Now()))
	if code != 2 || !strings.Contains(errs, "is protected") {
		t.Fatalf("protected: exit %d: %s", code, errs)
	}
	if refs := gittest.Run(t, infra2, "for-each-ref", "refs/heads/remediation/"); refs != "" {
		t.Fatalf("pushed: %s", refs)
	}
}

// The revert takes the change most likely to have caused the anomaly: merged before
// it started (never after), within the window, and of those the one that lies most
// within the runbook's paths, not merely the newest; the artifact says why.
func TestProposeRevertTakesTheLikeliestCause(t *testing.T) {
	cfg, infra, work := revertCatalog(t)
	branch := "remediation/" + decision.ID("scale-out-api", "service=api-gateway")
	gittest.WriteFile(t, filepath.Join(work, "envs/api-gateway.auto.tfvars"), "replicas = 1\n")
	focused := commitAll(t, work, "shrink the gateway")
	gittest.WriteFile(t, filepath.Join(work, "envs/api-second.auto.tfvars"), "replicas = 9\n")
	for _, f := range []string{"README.md", "docs/a.md", "docs/b.md", "docs/c.md"} {
		gittest.WriteFile(t, filepath.Join(work, f), "sweeping\n")
	}
	commitAll(t, work, "a sweeping change that also touches a service")
	time.Sleep(1100 * time.Millisecond) // commit times have a second's resolution
	started := time.Now()
	time.Sleep(1100 * time.Millisecond)
	gittest.WriteFile(t, filepath.Join(work, "envs/api-maxed.auto.tfvars"), "replicas = 19\n")
	commitAll(t, work, "merged after the anomaly started")

	code, out, errs := proposeRun(t, cfg, alertAt("api-gateway", started))
	if code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if got := gittest.Run(t, infra, "show", branch+":envs/api-gateway.auto.tfvars"); !strings.Contains(got, "raised in March") {
		t.Fatalf("the focused change was not reverted: %q", got)
	}
	if got := gittest.Run(t, infra, "show", branch+":envs/api-second.auto.tfvars"); got != "replicas = 9" {
		t.Fatalf("the sweeping change was reverted: %q", got)
	}
	if got := gittest.Run(t, infra, "show", branch+":envs/api-maxed.auto.tfvars"); got != "replicas = 19" {
		t.Fatalf("a change merged after the anomaly started was reverted: %q", got)
	}
	art, err := artifact.Decode([]byte(gittest.Run(t, infra, "show", branch+":"+artifact.Path(decision.ID("scale-out-api", "service=api-gateway"))) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(art.Reverts) != 1 || art.Reverts[0].Commit != focused ||
		!strings.Contains(art.Reverts[0].Why, "1 of its 1 changed file(s) are under the runbook's paths; the best match of 2 candidate commit(s)") ||
		!strings.Contains(art.Reverts[0].Why, "before the anomaly started at "+started.UTC().Format(time.RFC3339)) {
		t.Fatalf("artifact reverts %+v", art.Reverts)
	}
}
