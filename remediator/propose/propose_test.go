package propose

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// fakeForge is a forge that remembers what it was asked: the proposals opened, the
// recurrences counted, the closes. Lookup answers from what it opened, or from a
// proposal the test put there.
type fakeForge struct {
	opened  []forge.Request
	props   map[string]forge.Proposal
	recurs  int
	closed  []string
	openErr error
}

func (f *fakeForge) Lookup(_ context.Context, branch string) (forge.Proposal, bool, error) {
	p, ok := f.props[branch]
	return p, ok, nil
}

func (f *fakeForge) Open(_ context.Context, r forge.Request) (forge.Proposal, error) {
	if f.openErr != nil {
		return forge.Proposal{}, f.openErr
	}
	f.opened = append(f.opened, r)
	p := forge.Proposal{ID: r.Artifact.ID, Branch: r.Branch, State: forge.Open, URL: "proposal/" + r.Branch, Created: r.Seen}
	f.props[r.Branch] = p
	return p, nil
}

func (f *fakeForge) Recur(context.Context, forge.Proposal, forge.Request) (int, error) {
	f.recurs++
	return f.recurs, nil
}

func (f *fakeForge) Proposals(context.Context, time.Time) ([]forge.Proposal, error) {
	var out []forge.Proposal
	for _, p := range f.props {
		out = append(out, p)
	}
	return out, nil
}

func (f *fakeForge) Close(_ context.Context, p forge.Proposal, reason string) error {
	f.closed = append(f.closed, p.Branch+": "+reason)
	p.State = forge.Closed
	f.props[p.Branch] = p
	return nil
}

// fixture is a proposer on a fresh infrastructure repository holding
// envs/api.auto.tfvars (replicas = 2), with one runbook that raises the replicas of
// the service an alert "HighLatency" names.
type fixture struct {
	p     *Proposer
	forge *fakeForge
	repo  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	repo := gittest.BareRepo(t)
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", repo, work)
	gittest.WriteFile(t, filepath.Join(work, "envs", "api.auto.tfvars"), "replicas = 2\n")
	gittest.Run(t, work, "add", ".")
	gittest.Run(t, work, "-c", "user.name=Infra", "-c", "user.email=infra@localhost", "commit", "-qm", "initial")
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:main")

	rb := runbooks.NewRunbook("scale-out")
	rb.Spec.Risk = runbooks.RiskLow
	rb.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="HighLatency"`}, GroupBy: []string{"service"}}
	rb.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "current + 1"}}
	cat, err := runbooks.NewCatalog([]*runbooks.Runbook{rb}, nil)
	if err != nil {
		t.Fatal(err)
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		t.Fatal(err)
	}
	infra, err := infrarepo.Open(context.Background(), repo, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = infra.Close() })
	keyFile := filepath.Join(t.TempDir(), "signing_key")
	if err := signing.GenerateKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	if infra.Signer, err = signing.LoadKey(keyFile); err != nil {
		t.Fatal(err)
	}
	ff := &fakeForge{props: map[string]forge.Proposal{}}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	p := &Proposer{Catalog: cat, Router: router, Infra: infra, Forge: ff, Base: "main",
		AuthorName: "remediator", AuthorEmail: "remediator@localhost",
		Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return &fixture{p: p, forge: ff, repo: repo}
}

func latency(service string) intake.Anomaly {
	return intake.Anomaly{Labels: map[string]string{"alertname": "HighLatency", "service": service},
		Status: intake.StatusFiring, Fingerprint: "fp-" + service, Source: "alertmanager", Value: 0.9}
}

// branches lists the remediation branches on the server.
func (f *fixture) branches(t *testing.T) []string {
	t.Helper()
	out := gittest.Run(t, f.repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/remediation/")
	return strings.Fields(out)
}

// TestProposeOpensOnceAndCountsRepeats: the first anomaly opens one proposal whose
// branch holds the edit and the artifact; a repeat counts a recurrence on it and
// never opens a second one.
func TestProposeOpensOnceAndCountsRepeats(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.p.Propose(ctx, latency("api"), false)
	if err != nil || res.Action != decision.Opened {
		t.Fatalf("first: %+v, %v", res, err)
	}
	if len(f.forge.opened) != 1 || f.forge.opened[0].Head != res.Commit {
		t.Fatalf("forge opened %+v, want one request for %s", f.forge.opened, res.Commit)
	}
	if got := f.branches(t); len(got) != 1 || got[0] != res.Branch {
		t.Fatalf("branches %v, want [%s]", got, res.Branch)
	}
	tfvars := gittest.Run(t, f.repo, "show", res.Branch+":envs/api.auto.tfvars")
	if !strings.Contains(tfvars, "replicas = 3") {
		t.Errorf("the proposal's file says %q, want replicas = 3", tfvars)
	}
	data := gittest.Run(t, f.repo, "show", res.Branch+":"+artifact.Path(res.ID))
	art, err := artifact.Decode([]byte(data))
	if err != nil || art.ID != res.ID || art.Runbook != "scale-out" || len(art.Changes) != 1 {
		t.Fatalf("artifact %+v, %v", art, err)
	}

	again, err := f.p.Propose(ctx, latency("api"), false)
	if err != nil || again.Action != decision.Updated || again.Recurrences != 1 {
		t.Fatalf("repeat: %+v, %v", again, err)
	}
	if len(f.forge.opened) != 1 || len(f.branches(t)) != 1 {
		t.Fatalf("a repeat opened another proposal: %d opened, branches %v", len(f.forge.opened), f.branches(t))
	}
}

// TestProposeWritesNothing: an anomaly no runbook acts on, a dry run and a change
// already in place push no branch and open no proposal, and say why.
func TestProposeWritesNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		anomaly intake.Anomaly
		dryRun  bool
		before  func(t *testing.T, f *fixture)
		want    decision.Action
		reason  string
	}{
		{name: "no runbook acts", anomaly: intake.Anomaly{Labels: map[string]string{"alertname": "DiskFull"}, Status: intake.StatusFiring},
			want: decision.NoMatch, reason: "no enabled runbook"},
		{name: "dry run", anomaly: latency("api"), dryRun: true, want: decision.Opened, reason: "dry run"},
		{name: "already resolved", anomaly: func() intake.Anomaly { a := latency("api"); a.Status = intake.StatusResolved; return a }(),
			want: decision.Suppressed, reason: "already resolved"},
		{name: "no such file", anomaly: latency("missing"), want: "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			res, err := f.p.Propose(context.Background(), tc.anomaly, tc.dryRun)
			if tc.want == "error" {
				if err == nil {
					t.Fatalf("no error for %+v", res)
				}
			} else if err != nil || res.Action != tc.want || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("got %+v, %v; want %s saying %q", res, err, tc.want, tc.reason)
			}
			if tc.dryRun && !strings.Contains(res.Diff, "replicas = 3") {
				t.Errorf("dry run's diff %q does not show the change", res.Diff)
			}
			if got := f.branches(t); len(got) != 0 || len(f.forge.opened) != 0 {
				t.Fatalf("wrote branches %v, opened %d proposals", got, len(f.forge.opened))
			}
		})
	}
}

// TestProposeNeverOverwritesAForeignBranch: a branch someone else pushed under the
// remediation's name is neither opened as its proposal nor overwritten.
func TestProposeNeverOverwritesAForeignBranch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dry, err := f.p.Propose(ctx, latency("api"), true)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", f.repo, work)
	gittest.WriteFile(t, filepath.Join(work, "envs", "api.auto.tfvars"), "replicas = 99\n")
	gittest.Run(t, work, "-c", "user.name=Mallory", "-c", "user.email=m@localhost", "commit", "-qam", "Remediation-Id: "+dry.ID)
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:refs/heads/"+dry.Branch)
	foreign := strings.TrimSpace(gittest.Run(t, f.repo, "rev-parse", dry.Branch))

	res, err := f.p.Propose(ctx, latency("api"), false)
	if err != nil || res.Action != decision.Suppressed || !strings.Contains(res.Reason, "never overwritten") {
		t.Fatalf("got %+v, %v; want suppressed", res, err)
	}
	if len(f.forge.opened) != 0 {
		t.Fatalf("opened %+v from a foreign branch", f.forge.opened)
	}
	if now := strings.TrimSpace(gittest.Run(t, f.repo, "rev-parse", dry.Branch)); now != foreign {
		t.Fatalf("the foreign branch moved from %s to %s", foreign, now)
	}
}

// TestProposeReopensItsOwnPushedBranch: a branch the remediator pushed whose
// proposal never opened (the forge refused) is opened on the next occurrence from
// what the branch records, without a second commit.
func TestProposeReopensItsOwnPushedBranch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.forge.openErr = io.ErrUnexpectedEOF
	first, err := f.p.Propose(ctx, latency("api"), false)
	if err == nil || !strings.Contains(err.Error(), "open proposal for") {
		t.Fatalf("first: %+v, %v; want the forge's error", first, err)
	}
	head := strings.TrimSpace(gittest.Run(t, f.repo, "rev-parse", first.Branch))
	f.forge.openErr = nil
	res, err := f.p.Propose(ctx, latency("api"), false)
	if err != nil || res.Action != decision.Opened || res.Commit != head || !strings.Contains(res.Reason, "pushed earlier") {
		t.Fatalf("got %+v, %v; want the pushed branch %s opened", res, err, head)
	}
	if len(f.forge.opened) != 1 || f.forge.opened[0].Artifact.ID != first.ID {
		t.Fatalf("opened %+v", f.forge.opened)
	}
}

// TestProposeClosesWhenResolved: a resolved anomaly closes its open proposal, saying
// the remediation was not needed.
func TestProposeClosesWhenResolved(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.p.Propose(ctx, latency("api"), false); err != nil {
		t.Fatal(err)
	}
	a := latency("api")
	a.Status = intake.StatusResolved
	res, err := f.p.Propose(ctx, a, false)
	if err != nil || res.Action != decision.Closed || len(f.forge.closed) != 1 || !strings.Contains(f.forge.closed[0], "was not needed") {
		t.Fatalf("got %+v, %v, closes %v", res, err, f.forge.closed)
	}
}

// TestProposeSuppressesARejectedProposalForItsCooldown: a proposal a reviewer closed
// holds the remediation back for the runbook's cooldown; reopened, it is never
// merged nor replaced.
func TestProposeSuppressesARejectedProposalForItsCooldown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		state  forge.State
		ago    time.Duration
		want   decision.Action
		reason string
	}{
		{name: "closed within the cooldown", state: forge.Closed, ago: time.Minute, want: decision.Suppressed, reason: "cooldown"},
		{name: "reopened", state: forge.Open, ago: 48 * time.Hour, want: decision.Suppressed, reason: "never merges it"},
		{name: "closed long ago", state: forge.Closed, ago: 48 * time.Hour, want: decision.Opened},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.p.Catalog.Runbook("scale-out").Spec.Cooldown = runbooks.Duration(time.Hour)
			first, err := f.p.Propose(context.Background(), latency("api"), false)
			if err != nil {
				t.Fatal(err)
			}
			at := f.p.Now().Add(-tc.ago)
			f.forge.props[first.Branch] = forge.Proposal{ID: first.ID, Branch: first.Branch, State: tc.state, URL: "proposal/1",
				RejectedBy: "reviewer", RejectedAt: at, Closed: at}
			// The remediator's clock moves on, so a new proposal is a new commit.
			later := f.p.Now().Add(time.Minute)
			f.p.Now = func() time.Time { return later }
			res, err := f.p.Propose(context.Background(), latency("api"), false)
			if err != nil || res.Action != tc.want || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("got %+v, %v; want %s saying %q", res, err, tc.want, tc.reason)
			}
			// The closed proposal's branch is replaced by the new proposal, or kept.
			head := strings.TrimSpace(gittest.Run(t, f.repo, "rev-parse", first.Branch))
			if want := map[bool]string{true: res.Commit, false: first.Commit}[tc.want == decision.Opened]; head != want {
				t.Fatalf("branch at %s, want %s", head, want)
			}
		})
	}
}
