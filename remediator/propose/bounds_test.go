package propose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/bounds"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/github"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/local"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Three replicas with the same configuration each receive every anomaly of a burst
// over more targets than a bound (as from an Alertmanager pair), on the local forge,
// each counting from its own mirror: the bound holds exactly, burst after burst.
// Without the reservation pushed with each branch, two replicas counting at once
// each saw room for one more.
func TestBoundsAreExactAcrossReplicas(t *testing.T) {
	const replicas, bursts = 3, 8
	cases := []struct {
		name    string
		limits  decision.Bounds
		policy  runbooks.Limits
		targets int
		want    int
	}{
		{"the default per-runbook hourly bound", decision.Bounds{PerHourPerRunbook: 10}, runbooks.Limits{}, 13, 10},
		{"a policy's tighter max_open", decision.Bounds{PerHourPerRunbook: 10}, runbooks.Limits{MaxOpen: 2}, 6, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			targets := c.targets
			w := newReplicaWorld(t, bursts, targets, c.policy)
			for burst := range bursts {
				// Each burst an hour and more after the last: the hourly bounds start
				// again; the open ones are closed, as reviewers would.
				now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC).Add(time.Duration(burst) * 2 * time.Hour)
				w.closeAll(t)
				before := len(w.branches(t))
				var wg sync.WaitGroup
				errs := make(chan error, replicas*targets)
				for r := range replicas {
					p := w.replica(t, c.limits, now)
					wg.Add(1)
					go func() {
						defer wg.Done()
						// Each replica takes the burst in its own order, as its queue would.
						for i := range targets {
							svc := fmt.Sprintf("s%d-%d", burst, (i+r*7)%targets)
							if _, err := p.Propose(context.Background(), latency(svc), false); err != nil {
								errs <- fmt.Errorf("replica %d, %s: %w", r, svc, err)
							}
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				if got := len(w.branches(t)) - before; got != c.want {
					t.Fatalf("burst %d: %d proposals, want exactly %d", burst+1, got, c.want)
				}
			}
		})
	}
}

// replicaWorld is one infrastructure repository with a file per target, one runbook
// and one policy, and the key the replicas share.
type replicaWorld struct {
	repo, work string
	cat        *runbooks.Catalog
	router     *runbooks.Router
	key        *signing.Key
}

func newReplicaWorld(t *testing.T, bursts, targets int, limits runbooks.Limits) *replicaWorld {
	t.Helper()
	w := &replicaWorld{repo: gittest.BareRepo(t), work: t.TempDir()}
	gittest.Run(t, "", "clone", "-q", w.repo, w.work)
	gittest.WriteFile(t, filepath.Join(w.work, "README.md"), "infra\n")
	for b := range bursts {
		for i := range targets {
			gittest.WriteFile(t, filepath.Join(w.work, "envs", fmt.Sprintf("s%d-%d.auto.tfvars", b, i)), "replicas = 2\n")
		}
	}
	gittest.Run(t, w.work, "add", ".")
	gittest.Run(t, w.work, "-c", "user.name=Infra", "-c", "user.email=infra@localhost", "commit", "-qm", "initial")
	gittest.Run(t, w.work, "push", "-q", "origin", "HEAD:main")
	rb := runbooks.NewRunbook("scale-out")
	rb.Spec.Risk = runbooks.RiskLow
	rb.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="HighLatency"`}, GroupBy: []string{"service"}}
	rb.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/{{ .labels.service }}.auto.tfvars", Path: "replicas", Value: "current + 1"}}
	pol := runbooks.NewPolicy("prod")
	pol.Spec.Limits = limits
	var err error
	if w.cat, err = runbooks.NewCatalog([]*runbooks.Runbook{rb}, []*runbooks.Policy{pol}); err != nil {
		t.Fatal(err)
	}
	if w.router, err = runbooks.NewRouter(w.cat); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "signing_key")
	if err := signing.GenerateKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	if w.key, err = signing.LoadKey(keyFile); err != nil {
		t.Fatal(err)
	}
	return w
}

// replica is one serve replica's proposer: its own mirror and local forge.
func (w *replicaWorld) replica(t *testing.T, limits decision.Bounds, now time.Time) *Proposer {
	t.Helper()
	infra, err := infrarepo.Open(context.Background(), w.repo, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = infra.Close() })
	infra.Signer = w.key
	clock := func() time.Time { return now }
	f := &local.Forge{Infra: infra, Base: "main", AuthorName: "remediator", AuthorEmail: "remediator@localhost", Now: clock}
	return &Proposer{Catalog: w.cat, Router: w.router, Infra: infra, Forge: f, Base: "main", Limits: limits,
		AuthorName: "remediator", AuthorEmail: "remediator@localhost",
		Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func (w *replicaWorld) branches(t *testing.T) []string {
	t.Helper()
	return strings.Fields(gittest.Run(t, w.repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/remediation/"))
}

// closeAll deletes every proposal branch, as closing them does (and keeps the
// reservations ledger: its entries age out by the clock).
func (w *replicaWorld) closeAll(t *testing.T) {
	t.Helper()
	for _, b := range w.branches(t) {
		gittest.Run(t, w.repo, "update-ref", "-d", "refs/heads/"+b)
	}
}

// A replica that dies between its push and opening the pull request (its forge call
// never happens) holds the open slot with its reservation for the lease only: until
// then another replica is held back by it, after it the slot is free again.
func TestADeadReplicasReservationHoldsOnlyForItsLease(t *testing.T) {
	w := newReplicaWorld(t, 1, 2, runbooks.Limits{MaxOpen: 1})
	ff := &fakeForge{props: map[string]forge.Proposal{}}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	dead, other := w.replica(t, decision.Bounds{}, now), w.replica(t, decision.Bounds{}, now)
	dead.Forge, other.Forge = ff, ff
	ff.openErr = errors.New("killed")
	if _, err := dead.Propose(context.Background(), latency("s0-0"), false); err == nil {
		t.Fatal("the dying replica's proposal opened")
	}
	ff.openErr = nil
	if len(w.branches(t)) != 1 {
		t.Fatalf("the dying replica's branch and reservation were not pushed: %v", w.branches(t))
	}
	res, err := other.Propose(context.Background(), latency("s0-1"), false)
	if err != nil || res.Action != decision.Suppressed || !strings.Contains(res.Reason, "max_open") {
		t.Fatalf("within the lease: %+v %v", res, err)
	}
	later := now.Add(bounds.DefaultLease + time.Minute)
	other.Now = func() time.Time { return later }
	res, err = other.Propose(context.Background(), latency("s0-1"), false)
	if err != nil || res.Action != decision.Opened {
		t.Fatalf("after the lease: %+v %v", res, err)
	}
}

// A branch a dead replica pushed is opened by its anomaly's next occurrence on
// another replica. Within the lease (limits.reservation_lease, 45s here) its slot is
// its own: it opens without a second reservation, and it fills the bound. After the
// lease the slot may have gone to another proposal: opening it is a new proposal to
// the bounds, held back at the bound, and opened with a reservation of its own once
// there is room. (It used to open whatever the count: two open under max_open 1.)
func TestADeadReplicasBranchIsCountedAgainAfterItsLease(t *testing.T) {
	const lease = 45 * time.Second
	limits := decision.Bounds{MaxOpen: 1, Lease: lease}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	id := decision.ID("scale-out", "service=s0-0")

	t.Run("within the lease", func(t *testing.T) {
		w, ff, other := deadReplicasBranch(t, limits, now)
		proposeAt(t, other, now.Add(lease-5*time.Second), "s0-0", decision.Opened)
		if got := reservationsOf(t, w, id); len(got) != 1 || !got[0].Equal(now) {
			t.Fatalf("reservations of %s: %v, want only the dead replica's", id, got)
		}
		res := proposeAt(t, other, now.Add(lease-5*time.Second), "s0-1", decision.Suppressed)
		if !strings.Contains(res.Reason, "max_open") || len(ff.opened) != 1 {
			t.Fatalf("beside the opened branch: %+v, opened %d", res, len(ff.opened))
		}
	})
	t.Run("after the lease", func(t *testing.T) {
		w, ff, other := deadReplicasBranch(t, limits, now)
		later := now.Add(lease + time.Second)
		proposeAt(t, other, later, "s0-1", decision.Opened) // the dead replica's slot is free again
		res := proposeAt(t, other, later, "s0-0", decision.Suppressed)
		if !strings.Contains(res.Reason, "max_open") || len(ff.opened) != 1 {
			t.Fatalf("the dead replica's branch opened over the bound: %+v, %d open", res, len(ff.opened))
		}
		// A reviewer closes s0-1: now there is room, and the branch opens with a
		// reservation of its own.
		b := decision.Branch(decision.ID("scale-out", "service=s0-1"))
		closed := ff.props[b]
		closed.State = forge.Closed
		ff.props[b] = closed
		gittest.Run(t, w.repo, "update-ref", "-d", "refs/heads/"+b)
		reopened := later.Add(time.Minute)
		proposeAt(t, other, reopened, "s0-0", decision.Opened)
		if got := reservationsOf(t, w, id); len(got) != 2 || !got[1].Equal(reopened) {
			t.Fatalf("reservations of %s: %v, want a second one, made when it opened (%s)", id, got, reopened)
		}
		if len(ff.opened) != 2 || ff.opened[1].Branch != decision.Branch(id) {
			t.Fatalf("opened %+v", ff.opened)
		}
	})
	// Its new reservation replaces its first: under per_hour 1 the hour holds one
	// proposal, this one, not two.
	t.Run("counted once for the hour", func(t *testing.T) {
		w, ff, other := deadReplicasBranch(t, decision.Bounds{PerHour: 1, Lease: lease}, now)
		proposeAt(t, other, now.Add(lease+time.Second), "s0-0", decision.Opened)
		res := proposeAt(t, other, now.Add(lease+time.Second), "s0-1", decision.Suppressed)
		if !strings.Contains(res.Reason, "per_hour") || len(ff.opened) != 1 || len(reservationsOf(t, w, id)) != 2 {
			t.Fatalf("%+v, opened %d", res, len(ff.opened))
		}
	})
}

// deadReplicasBranch is a world of two targets where a replica pushed s0-0's branch
// with its reservation at now and died before opening it, and another replica on
// the same forge.
func deadReplicasBranch(t *testing.T, limits decision.Bounds, now time.Time) (*replicaWorld, *fakeForge, *Proposer) {
	t.Helper()
	w := newReplicaWorld(t, 1, 2, runbooks.Limits{})
	ff := &fakeForge{props: map[string]forge.Proposal{}, openErr: errors.New("killed")}
	dead := w.replica(t, limits, now)
	dead.Forge = ff
	if _, err := dead.Propose(context.Background(), latency("s0-0"), false); err == nil {
		t.Fatal("the dying replica's proposal opened")
	}
	ff.openErr = nil
	if len(w.branches(t)) != 1 {
		t.Fatalf("the dying replica's branch was not pushed: %v", w.branches(t))
	}
	other := w.replica(t, limits, now)
	other.Forge = ff
	return w, ff, other
}

// proposeAt proposes for svc at the given time and wants the given action.
func proposeAt(t *testing.T, p *Proposer, at time.Time, svc string, want decision.Action) Result {
	t.Helper()
	p.Now = func() time.Time { return at }
	res, err := p.Propose(context.Background(), latency(svc), false)
	if err != nil || res.Action != want {
		t.Fatalf("%s at %s: %+v %v, want %s", svc, at.Format(time.TimeOnly), res, err, want)
	}
	return res
}

// reservationsOf are the times of the ledger's reservations of id, oldest first.
func reservationsOf(t *testing.T, w *replicaWorld, id string) []time.Time {
	t.Helper()
	var out []time.Time
	for _, r := range bounds.Parse([]byte(gittest.Run(t, w.repo, "show", bounds.Ref+":"+bounds.File))) {
		if r.ID == id {
			out = append(out, r.At)
		}
	}
	return out
}

// The same on the GitHub test server: three replicas, each with its own mirror and
// its own forge client (its own kept pull requests), a burst over twice a policy's
// max_open, five times, the pull requests closed between bursts: exactly max_open
// pull requests every time.
func TestBoundsAreExactAcrossReplicasOnGitHub(t *testing.T) {
	const replicas, targets, bursts, maxOpen = 3, 6, 5, 2
	const token = "ghs_boundsReplicaToken000"
	srv := fakegithub.New(t)
	srv.AddToken(token, "remediator-bot")
	files := map[string]string{}
	for b := range bursts {
		for i := range targets {
			files[fmt.Sprintf("envs/s%d-%d.auto.tfvars", b, i)] = "replicas = 2\n"
		}
	}
	srv.CreateRepo("acme", "infra", files)
	w := newReplicaWorld(t, 0, 0, runbooks.Limits{MaxOpen: maxOpen})
	var ps []*Proposer
	for range replicas {
		infra, err := infrarepo.Open(context.Background(), srv.URL+"/acme/infra.git", token, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = infra.Close() })
		infra.Signer = w.key
		f, err := github.New(github.Options{Owner: "acme", Repository: "infra", BaseURL: srv.URL, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, &Proposer{Catalog: w.cat, Router: w.router, Infra: infra, Forge: f, Base: "main",
			AuthorName: "remediator", AuthorEmail: "remediator@localhost", Now: time.Now,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}
	open := func() int {
		n := 0
		for _, pr := range srv.PullRequests("acme", "infra") {
			if pr.State == "open" {
				n++
			}
		}
		return n
	}
	for burst := range bursts {
		var wg sync.WaitGroup
		errs := make(chan error, replicas*targets)
		for r, p := range ps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range targets {
					svc := fmt.Sprintf("s%d-%d", burst, (i+r*2)%targets)
					if _, err := p.Propose(context.Background(), latency(svc), false); err != nil {
						errs <- fmt.Errorf("replica %d, %s: %w", r, svc, err)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := open(); got != maxOpen {
			t.Fatalf("burst %d: %d pull requests open, want exactly %d", burst+1, got, maxOpen)
		}
		for _, pr := range srv.PullRequests("acme", "infra") {
			if pr.State == "open" {
				srv.CloseAs("acme", "infra", pr.Number, "remediator-bot", time.Now())
			}
		}
	}
}
