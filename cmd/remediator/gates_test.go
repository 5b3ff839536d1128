package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Limits, cooldowns and windows are derived from Git, so a fresh process (each
// propose run is one) sees them.
func TestProposeGates(t *testing.T) {
	cfg := publishedCatalogWith(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		rb.Spec.Cooldown = runbooks.Duration(time.Hour)
		p.Spec.Limits.MaxOpen = 1
		// A change window long past: proposals open but may not merge.
		p.Spec.ChangeWindows = []runbooks.Window{{TimeZone: "UTC", From: "2000-01-01", Until: "2000-01-02"}}
	})
	infra := infraRepo(t, cfg)
	id := decision.ID("scale-out-api", "service=api-gateway")

	code, out, errs := proposeRun(t, cfg, alert("api-gateway"))
	if code != 0 || !strings.HasPrefix(out, "opened: remediation/"+id) || !strings.Contains(out, "not mergeable yet: outside every change window of policy production") {
		t.Fatalf("window: exit %d: %s %s", code, out, errs)
	}
	if art := gittest.Run(t, infra, "show", "remediation/"+id+":.remediations/"+id+".yaml"); !strings.Contains(art, "merge:\n  allowed: false\n  reason: outside every change window") {
		t.Fatalf("artifact does not record the closed window:\n%s", art)
	}

	// max_open 1 under production: a second target waits.
	code, out, _ = proposeRun(t, cfg, alert("api-second"))
	if code != 0 || !strings.HasPrefix(out, "suppressed: ") || !strings.Contains(out, "limit: 1 proposals already open under policy production (max_open 1)") {
		t.Fatalf("limit: exit %d: %s", code, out)
	}

	// The proposal is merged (as reconcile will do, signed: only the remediator's own
	// merges start a cooldown) and its branch deleted: the open count drops, and the
	// target's cooldown starts.
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", infra, work)
	asRemediator(t, cfg, work, "merge", "--no-ff", "-q", "origin/remediation/"+id, "-m", "Merge remediation "+id+"\n\nRemediation-Id: "+id+"\nRunbook: scale-out-api")
	gittest.Run(t, work, "push", "-q", "origin", "main", ":remediation/"+id)

	code, out, _ = proposeRun(t, cfg, alert("api-gateway"))
	if code != 0 || !strings.HasPrefix(out, "suppressed: ") || !strings.Contains(out, "cooldown: this target was last remediated at") {
		t.Fatalf("cooldown: exit %d: %s", code, out)
	}
	code, out, _ = proposeRun(t, cfg, alert("api-second"))
	if code != 0 || !strings.HasPrefix(out, "opened: ") {
		t.Fatalf("after the merge the limit frees up: exit %d: %s", code, out)
	}
}
