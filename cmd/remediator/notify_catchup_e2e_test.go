package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/notify"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// catchUpSetup publishes a catalog whose remediations verify against a fake
// Alertmanager (firing says whether the alert fires: it does until the test says
// otherwise), and returns the
// configuration, a copy of it without receivers (quiet) and the infrastructure
// repository. A process run on quiet acts and tells nobody: it merges or records an
// outcome and queues and claims nothing, as a replica that died right after its
// action. The receivers are added to the configuration after the copy.
func catchUpSetup(t *testing.T, c *chat, firing *atomic.Bool, adjust func(*runbooks.Policy)) (cfg, quiet, infra string) {
	t.Helper()
	cfg = publishedCatalogWith(t, func(rb *runbooks.Runbook, p *runbooks.Policy) {
		rb.Spec.Verify = verifySpec(2*time.Second, 0, time.Minute, "")
		if adjust != nil {
			adjust(p)
		}
	})
	infra = infraRepo(t, cfg)
	firing.Store(true)
	appendTo(t, cfg, "alertmanager:\n  url: http://"+fakeAlertmanager(t, firing.Load)+"\n")
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	quiet = filepath.Join(filepath.Dir(cfg), "quiet.yaml")
	writeFile(t, quiet, string(base))
	if c != nil {
		c.configure(t, cfg)
	}
	return cfg, quiet, infra
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// replicaOf is cfg for another replica: its own state directory (queue, mirror,
// outboxes), the first replica's signing key (replicas share it).
func replicaOf(t *testing.T, cfg, name string) string {
	t.Helper()
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(filepath.Dir(cfg), "replica-"+name+".yaml")
	writeFile(t, out, strings.Replace(string(base), "state_dir: ./state\n", "state_dir: ./state-"+name+"\nsigning:\n  key_file: ./state/signing_key\n", 1))
	return out
}

// reconcileUntil runs passes of the quiet process until one says want.
func reconcileUntil(t *testing.T, cfg, want string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		code, out, errs := cli(t, "reconcile", "--config", cfg)
		if code != 0 {
			t.Fatalf("reconcile: exit %d\n%s%s", code, out, errs)
		}
		if strings.Contains(out, want) {
			return
		}
		last = out + errs
	}
	t.Fatalf("no pass said %q; the last:\n%s", want, last)
}

// proposeTold opens the proposal with the receivers on (its event begins the
// claims) and has alice approve it. On a quiet machine the merge that follows is
// often of the same second as the claims' beginning (git's times are seconds): it is
// caught up all the same.
func proposeTold(t *testing.T, c *chat, cfg string) string {
	t.Helper()
	if code, _, errs := proposeRun(t, cfg, alert("api-gateway")); code != 0 {
		t.Fatalf("propose: exit %d: %s", code, errs)
	}
	c.wantOnce(t, notify.ProposalWaiting)
	id := decision.ID("scale-out-api", "service=api-gateway")
	aliceApproves(t, cfg, id)
	return id
}

// A replica merges and dies before the "merged" event is queued, then another
// records the outcome and dies too: the restarted serve finds both in Git and tells
// each receiver each event once, with what Git says of it (approvers, times), and
// counts the catch-up; its later passes tell nothing again. The same for a failure:
// failed with its rollback, and the breaker it tripped.
func TestALostEventIsCaughtUpOnceAfterARestart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		firing  bool
		outcome string
		kinds   []notify.Kind
	}{
		{name: "verified", outcome: "verified", kinds: []notify.Kind{notify.Verified}},
		{name: "failed", firing: true, outcome: "failed", kinds: []notify.Kind{notify.Failed, notify.Suspended}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, firing := newChat(t), &atomic.Bool{}
			cfg, quiet, infra := catchUpSetup(t, c, firing, breakerOfOne)
			id := proposeTold(t, c, cfg)
			reconcileUntil(t, quiet, "merged")
			firing.Store(tc.firing)
			applied(t, cfg, infra)
			reconcileUntil(t, quiet, tc.outcome)
			for _, k := range append([]notify.Kind{notify.Merged}, tc.kinds...) {
				if n := c.count("hook", k); n != 0 {
					t.Fatalf("%s told %d times before the restart", k, n)
				}
			}

			addr := freeAddr(t)
			t.Cleanup(startServe(t, cfg, addr, "--reconcile-interval", "300ms"))
			c.wantOnce(t, append([]notify.Kind{notify.Merged}, tc.kinds...)...)
			if e := c.event(notify.Merged); e.RemediationID != id || len(e.Approvers) != 1 || !strings.HasPrefix(e.Approvers[0], "alice") ||
				e.Times.Merged.IsZero() || e.Times.AnomalyStart.IsZero() || e.URL != "http://remediator.test/remediations/"+id {
				t.Fatalf("merged event %+v", e)
			}
			if tc.firing {
				if e := c.event(notify.Failed); e.Rollback != decision.Branch(id+"-rollback") || e.Detail == "" {
					t.Fatalf("failed event %+v", e)
				}
			} else if e := c.event(notify.Verified); e.Times.Verified.Before(e.Times.Merged) {
				t.Fatalf("verified event %+v", e)
			}
			m := scrape(t, addr)
			for _, k := range append([]notify.Kind{notify.Merged}, tc.kinds...) {
				if want := `remediator_notifications_caught_up_total{kind="` + string(k) + `"} 1`; !strings.Contains(m, want+"\n") {
					t.Errorf("metrics lack %s", want)
				}
			}
			time.Sleep(time.Second) // more passes
			c.wantOnce(t, append([]notify.Kind{notify.ProposalWaiting, notify.Merged}, tc.kinds...)...)
		})
	}
}

// Two replicas, each with its own state directory and outboxes, start at once after
// the merge and the outcome were lost: each receiver hears of each event once.
func TestTwoReplicasCatchUpEachEventOnce(t *testing.T) {
	c, firing := newChat(t), &atomic.Bool{}
	cfg, quiet, infra := catchUpSetup(t, c, firing, nil)
	proposeTold(t, c, cfg)
	reconcileUntil(t, quiet, "merged")
	firing.Store(false)
	applied(t, cfg, infra)
	reconcileUntil(t, quiet, "verified")
	other := replicaOf(t, cfg, "b")
	t.Cleanup(startServe(t, cfg, freeAddr(t), "--reconcile-interval", "200ms"))
	t.Cleanup(startServe(t, other, freeAddr(t), "--reconcile-interval", "200ms"))
	c.wantOnce(t, notify.Merged, notify.Verified)
	time.Sleep(time.Second)
	c.wantOnce(t, notify.ProposalWaiting, notify.Merged, notify.Verified)
}

// Receivers added to a remediator with history: its first start tells none of the
// history (the claims begin then), and what happens after is told as it happens.
func TestTheFirstStartWithReceiversTellsNoHistory(t *testing.T) {
	firing := &atomic.Bool{}
	cfg, quiet, infra := catchUpSetup(t, nil, firing, nil)
	if code, _, errs := proposeRun(t, quiet, alert("api-gateway")); code != 0 {
		t.Fatalf("propose: exit %d: %s", code, errs)
	}
	aliceApproves(t, quiet, decision.ID("scale-out-api", "service=api-gateway"))
	reconcileUntil(t, quiet, "merged")
	firing.Store(false)
	applied(t, quiet, infra)
	reconcileUntil(t, quiet, "verified")
	c := newChat(t)
	c.configure(t, cfg)
	addr := freeAddr(t)
	t.Cleanup(startServe(t, cfg, addr, "--reconcile-interval", "200ms"))
	waitFor(t, "the claims to begin", func() bool {
		_, err := gittest.Output(infra, "rev-parse", "--verify", "-q", notify.ClaimsRef)
		return err == nil
	})
	time.Sleep(2 * time.Second) // passes
	for _, k := range notify.Kinds {
		if n := c.count("hook", k); n != 0 {
			t.Errorf("the first start told %s %d times", k, n)
		}
	}
	if code, _, errs := proposeRun(t, cfg, alert("api-second")); code != 0 {
		t.Fatalf("propose: exit %d: %s", code, errs)
	}
	c.wantOnce(t, notify.ProposalWaiting)
	if strings.Contains(scrape(t, addr), "remediator_notifications_caught_up_total{") {
		t.Error("a catch-up counted history")
	}
}

// A replica opened a proposal and died before it told: the next serve finds the
// proposal waiting and tells each receiver once, with who must approve.
func TestALostProposalIsCaughtUpOnce(t *testing.T) {
	c, firing := newChat(t), &atomic.Bool{}
	cfg, quiet, infra := catchUpSetup(t, c, firing, nil)
	if code, out, errs := cli(t, "reconcile", "--config", cfg); code != 0 {
		t.Fatalf("reconcile: exit %d\n%s%s", code, out, errs)
	}
	if _, err := gittest.Output(infra, "rev-parse", "--verify", "-q", notify.ClaimsRef); err != nil {
		t.Fatal("the first pass with receivers did not begin the claims")
	}
	time.Sleep(1100 * time.Millisecond) // the claims began to the second: that second is history
	if code, _, errs := proposeRun(t, quiet, alert("api-gateway")); code != 0 {
		t.Fatalf("propose: exit %d: %s", code, errs)
	}
	addr := freeAddr(t)
	t.Cleanup(startServe(t, cfg, addr, "--reconcile-interval", "300ms"))
	c.wantOnce(t, notify.ProposalWaiting)
	id := decision.ID("scale-out-api", "service=api-gateway")
	if e := c.event(notify.ProposalWaiting); e.RemediationID != id || e.Approval == nil || e.Approval.Required != 1 ||
		e.URL != "http://remediator.test/remediations/"+id || e.Times.AnomalyStart.IsZero() || e.Target == "" {
		t.Fatalf("proposal event %+v", e)
	}
	time.Sleep(time.Second) // more passes
	c.wantOnce(t, notify.ProposalWaiting)
	if !strings.Contains(scrape(t, addr), `remediator_notifications_caught_up_total{kind="proposal_waiting"} 1`+"\n") {
		t.Error("the catch-up was not counted")
	}
}

// The process claimed the "merged" event and died before its queue held it (the
// receivers were down; the queued files are removed, as a crash before the write
// leaves them): the restarted serve finds the claim under its own name, queues the
// event and tells each receiver once.
func TestAClaimedButUnqueuedEventIsToldByItsOwnerOnce(t *testing.T) {
	c, firing := newChat(t), &atomic.Bool{}
	cfg, _, _ := catchUpSetup(t, c, firing, nil)
	proposeTold(t, c, cfg)
	c.setDown(true)
	reconcileUntil(t, cfg, "merged")
	lost, err := filepath.Glob(filepath.Join(filepath.Dir(cfg), "state", "notify", "*", "merged-*.json"))
	if err != nil || len(lost) != 3 {
		t.Fatalf("queued merged events: %v (%v)", lost, err)
	}
	for _, f := range lost {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	c.setDown(false)
	addr := freeAddr(t)
	t.Cleanup(startServe(t, cfg, addr, "--reconcile-interval", "300ms"))
	c.wantOnce(t, notify.Merged)
	time.Sleep(time.Second) // more passes
	c.wantOnce(t, notify.ProposalWaiting, notify.Merged)
}
