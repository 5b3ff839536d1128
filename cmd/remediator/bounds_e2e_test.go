package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegithub"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/bounds"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Three `serve` processes on one repository on the GitHub test server, under a
// policy's max_open 2 and a reservation lease of 60s. Replica a pushes a branch
// with its reservation and is killed with SIGKILL while GitHub holds its pull
// request's creation back. While the lease runs, the dead replica's reservation
// holds its slot: the other replicas open one more and hold the next back. After
// the lease the slot is usable again. The dead replica's branch, opened later by
// its anomaly's next occurrence, counts as a new proposal: held back at the bound,
// opened once a proposal closed.
func TestAReplicaKilledHoldingAReservation(t *testing.T) {
	const lease = 60 * time.Second
	cfg, srv, bare := githubSetup(t, func(_ *runbooks.Runbook, pol *runbooks.Policy) { pol.Spec.Limits.MaxOpen = 2 })
	work := filepath.Join(t.TempDir(), "w")
	gittest.Run(t, "", "clone", "-q", bare, work)
	gittest.WriteFile(t, filepath.Join(work, "envs", "api-third.auto.tfvars"), "replicas = 2\n")
	gittest.Run(t, work, "add", "-A")
	gittest.Run(t, work, "-c", "user.name=Infra", "-c", "user.email=infra@localhost", "commit", "-qm", "a third service")
	gittest.Run(t, work, "push", "-q", "origin", "HEAD:main")
	replicas := boundsReplicas(t, cfg, lease, "a", "b", "c")
	a, b, c := replicas[0], replicas[1], replicas[2]
	x, y, z := "api-gateway", "api-second", "api-third"
	branchX := decision.Branch(decision.ID("scale-out-api", "service="+x))

	// Replica a proposes x; GitHub holds the pull request's creation back until a
	// is killed, after its atomic push of the branch and the reservation.
	arrived := make(chan struct{}, 1)
	srv.Inject(fakegithub.Fault{Method: http.MethodPost, Route: "/repos/{owner}/{repo}/pulls", Delay: 10 * time.Minute, Arrived: arrived})
	sendTo(t, alert(x), a)
	select {
	case <-arrived:
	case <-time.After(3 * time.Minute):
		t.Fatal("replica a never asked GitHub for the pull request")
	}
	reserved := reservationOf(t, bare, branchX)
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t)
	if _, err := gittest.Output(bare, "rev-parse", "--verify", "-q", branchX); err != nil || len(srv.PullRequests("acme", "infra")) != 0 {
		t.Fatalf("after the kill: branch pushed %v, pull requests %d", err == nil, len(srv.PullRequests("acme", "infra")))
	}

	// Within the lease: y opens beside the reservation, and z is held back by it
	// (one pull request open, and max_open 2 reached).
	bc := []*boundsReplica{b, c}
	handled(t, alert(y), bc)
	if got := openPulls(srv); len(got) != 1 {
		t.Fatalf("y: %v open, want y's", got)
	}
	held := suppressed(t, bc)
	handled(t, alert(z), bc)
	if time.Since(reserved) >= lease {
		t.Fatalf("the machine took longer than the lease (%s) to get here: nothing was shown", lease)
	}
	if got, n := openPulls(srv), suppressed(t, bc)-held; len(got) != 1 || n != 2 {
		t.Fatalf("within the lease: %v open, %d of 2 replicas held z back", got, n)
	}

	// After the lease the slot is usable again: z's next notification opens it.
	time.Sleep(time.Until(reserved.Add(lease)))
	handled(t, alert(z), bc)
	if got := openPulls(srv); len(got) != 2 {
		t.Fatalf("after the lease: %v open, want y's and z's", got)
	}
	t.Logf("z opened %s after the lease ran out", time.Since(reserved.Add(lease)).Round(time.Second))

	// x fires again: its branch is there without a pull request, and its lease ran
	// out: a new proposal to the bound, held back at it.
	held = suppressed(t, bc)
	handled(t, alert(x), bc)
	if got, n := openPulls(srv), suppressed(t, bc)-held; len(got) != 2 || n != 2 {
		t.Fatalf("the dead replica's branch: %v open under max_open 2, %d of 2 replicas held it back", got, n)
	}
	// y resolves (its pull request closes): x's next occurrence opens it, reserving
	// its slot again.
	handled(t, resolvedAlert(y), bc)
	handled(t, alert(x), bc)
	if got := openPulls(srv); len(got) != 2 || !got[branchX] {
		t.Fatalf("open: %v, want x's and z's", got)
	}
	if again := reservationOf(t, bare, branchX); !again.After(reserved.Add(lease)) {
		t.Fatalf("x opened on its first reservation (%s), not a new one", again)
	}
}

// boundsReplica is one serve process of boundsReplicas.
type boundsReplica struct {
	addr string
	cmd  *exec.Cmd
}

// boundsReplicas starts one serve process per name on cfg's repository, each with
// its own state directory, sharing the signing key (so each counts the others'
// reservations) and the lease.
func boundsReplicas(t *testing.T, cfg string, lease time.Duration, names ...string) []*boundsReplica {
	t.Helper()
	dir := filepath.Dir(cfg)
	if err := signing.GenerateKeyFile(filepath.Join(dir, "keys", "remediator")); err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []*boundsReplica
	for _, name := range names {
		c := filepath.Join(dir, "replica-"+name+".yaml")
		writeFile(t, c, strings.Replace(string(base), "state_dir: ./state\n", "state_dir: ./state-"+name+"\n", 1)+
			fmt.Sprintf("signing:\n  key_file: ./keys/remediator\nlimits:\n  reservation_lease: %s\n", runbooks.Duration(lease)))
		addr := freeAddr(t)
		out = append(out, &boundsReplica{addr: addr, cmd: serveProcess(t, c, addr)})
	}
	return out
}

// waitExit waits until the killed process is gone (serveProcess reaps it).
func (r *boundsReplica) waitExit(t *testing.T) {
	t.Helper()
	waitFor(t, "the killed replica gone", func() bool { return syscall.Kill(r.cmd.Process.Pid, 0) == syscall.ESRCH })
}

// sendTo posts an Alertmanager notification to each replica, as an Alertmanager
// pair notifies every one.
func sendTo(t *testing.T, body string, to ...*boundsReplica) {
	t.Helper()
	for _, r := range to {
		if code, resp := post(t, r.addr, "/v1/alertmanager", "", body); code != http.StatusAccepted {
			t.Fatalf("notify %s: %d %s", r.addr, code, resp)
		}
	}
}

var decisionsRE = regexp.MustCompile(`(?m)^remediator_decisions_total\{action="([a-z-]+)",runbook="scale-out-api"\} (\d+)$`)

// decisions counts what the replicas decided so far, in all or of one action.
func decisions(t *testing.T, rs []*boundsReplica, action string) int {
	t.Helper()
	n := 0
	for _, r := range rs {
		for _, m := range decisionsRE.FindAllStringSubmatch(scrape(t, r.addr), -1) {
			if action == "" || m[1] == action {
				v, _ := strconv.Atoi(m[2])
				n += v
			}
		}
	}
	return n
}

// suppressed is how many anomalies the replicas held back so far.
func suppressed(t *testing.T, rs []*boundsReplica) int {
	t.Helper()
	return decisions(t, rs, "suppressed")
}

// handled notifies every replica, as an Alertmanager pair does, and waits until
// each has decided on it.
func handled(t *testing.T, body string, rs []*boundsReplica) {
	t.Helper()
	before := decisions(t, rs, "")
	sendTo(t, body, rs...)
	waitForWithin(t, "every replica's decision", 2*time.Minute, func() bool { return decisions(t, rs, "") >= before+len(rs) })
}

// openPulls are the branches of the open pull requests.
func openPulls(srv *fakegithub.Server) map[string]bool {
	out := map[string]bool{}
	for _, pr := range srv.PullRequests("acme", "infra") {
		if pr.State == "open" {
			out[pr.Head] = true
		}
	}
	return out
}

// reservationOf is when the newest reservation of the branch's proposal was made.
func reservationOf(t *testing.T, bare, branch string) time.Time {
	t.Helper()
	id := strings.TrimPrefix(branch, decision.BranchPrefix)
	var at time.Time
	for _, r := range bounds.Parse([]byte(gittest.Run(t, bare, "show", bounds.Ref+":"+bounds.File))) {
		if r.ID == id {
			at = r.At
		}
	}
	if at.IsZero() {
		t.Fatalf("no reservation of %s", branch)
	}
	return at
}
