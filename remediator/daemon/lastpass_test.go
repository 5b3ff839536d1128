package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
)

func serverTarget(pr int, sha string) forge.Target {
	return forge.Target{Number: pr, Commit: sha}
}

// A full pass replaces what the status shows; a pass narrowed to what a delivery
// named updates its proposals only; merged and closed proposals leave the list.
func TestLastPassKeepsWhatThePassesFound(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var l LastPass
	l.apply([]lifecycle.Result{
		{ID: "a", Action: decision.Waiting, Reason: "0 of 1 approval(s)"},
		{ID: "b", Action: decision.Waiting, Reason: "0 of 1 approval(s)"},
		{ID: "m", Action: decision.Verifying},
	}, nil, true, at)
	l.apply([]lifecycle.Result{{ID: "a", Action: decision.Merged}, {ID: "m", Action: decision.Verifying}}, nil, false, at.Add(time.Minute))
	got := l.Outcomes()
	if len(got) != 3 || got[0].ID != "b" || got[1].ID != "a" || got[1].Action != decision.Merged || got[2].ID != "m" {
		t.Fatalf("after a narrowed pass: %+v", got)
	}
	if !l.Full.Equal(at) || !l.At.Equal(at.Add(time.Minute)) {
		t.Fatalf("times: full %v, at %v", l.Full, l.At)
	}
	l.apply([]lifecycle.Result{{ID: "c", Action: decision.Waiting}}, errors.New("#7: boom"), true, at.Add(2*time.Minute))
	if got := l.Outcomes(); len(got) != 1 || got[0].ID != "c" || l.Err() == nil {
		t.Fatalf("after a full pass: %+v, err %v", got, l.Err())
	}
}

// The record is written whole for `status`, read back as written; a missing file
// is no pass yet, a damaged one an error naming the file.
func TestLastPassFile(t *testing.T) {
	dir := t.TempDir()
	file := LastPassFile(dir)
	if l, found, err := ReadLastPass(file); l != nil || found || err != nil {
		t.Fatalf("no file: %v %v %v", l, found, err)
	}
	var l LastPass
	l.apply([]lifecycle.Result{{ID: "a", Action: decision.Waiting, Reason: "why"}}, nil, true, time.Now())
	if err := l.save(file); err != nil {
		t.Fatal(err)
	}
	back, found, err := ReadLastPass(file)
	if err != nil || !found || len(back.Outcomes()) != 1 || back.Outcomes()[0].Reason != "why" {
		t.Fatalf("read back: %+v %v %v", back, found, err)
	}
	if _, err := os.Stat(file + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the temporary file was left behind")
	}
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadLastPass(file); err == nil || !strings.Contains(err.Error(), filepath.Base(file)) {
		t.Fatalf("damaged file: %v", err)
	}
}

// Deliveries accumulate into one narrowed pass; one that names nothing, or too many
// targets, asks for a full pass; a resolved anomaly asks for a pass over no proposal.
func TestPendingTargets(t *testing.T) {
	c := New(Options{})
	c.KickTarget(serverTarget(7, ""))
	c.KickTarget(serverTarget(0, "abc"))
	c.KickTarget(serverTarget(7, ""))
	got := c.takePending()
	if got == nil || len(got.PullRequests) != 1 || got.PullRequests[0] != 7 || len(got.Commits) != 1 {
		t.Fatalf("narrowed pass: %+v", got)
	}
	c.KickTarget(serverTarget(0, ""))
	if got := c.takePending(); got != nil {
		t.Fatalf("a delivery naming nothing: want a full pass, got %+v", got)
	}
	for i := range maxTargets + 1 {
		c.KickTarget(serverTarget(i+1, ""))
	}
	if got := c.takePending(); got != nil {
		t.Fatal("too many targets: want a full pass")
	}
	c.KickPass()
	if got := c.takePending(); got == nil || len(got.PullRequests)+len(got.Commits) != 0 {
		t.Fatalf("a resolved anomaly: want a pass over no proposal, got %+v", got)
	}
}
