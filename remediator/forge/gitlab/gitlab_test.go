package gitlab_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/gitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

const project = "acme/infra"

// world is one project on the GitLab test server with the accounts the tests act
// as: the remediator (maintainer), alice and carol (developers), rita (reporter),
// gus (guest), mallory (developer, who pushes), ci (reports checks). The server's
// clock is the test's, a second a step.
type world struct {
	t     *testing.T
	s     *fakegitlab.Server
	dir   string
	f     *gitlab.Forge
	clock time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, s: fakegitlab.New(t), clock: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	w.s.SetClock(w.tick)
	w.s.AddUser("remediator", "rtoken")
	w.dir = w.s.CreateProject(project, map[string]string{"main.tf": "# infra\n"})
	for login, level := range map[string]int{"remediator": fakegitlab.Maintainer, "alice": fakegitlab.Developer, "carol": fakegitlab.Developer,
		"rita": fakegitlab.Reporter, "gus": fakegitlab.Guest, "mallory": fakegitlab.Developer, "ci": fakegitlab.Developer} {
		w.s.AddUser(login, login+"-token")
		w.s.SetMember(project, login, level)
	}
	f, err := gitlab.New(gitlab.Options{BaseURL: w.s.URL, Project: project, Token: "rtoken", Reporters: []string{"ci"}})
	if err != nil {
		t.Fatal(err)
	}
	w.f = f
	return w
}

// tick is the server's clock: a second later at each reading.
func (w *world) tick() time.Time {
	w.clock = w.clock.Add(time.Second)
	return w.clock
}

// push commits a file on branch (from main when new) and pushes it as login.
func (w *world) push(login, branch, file string) {
	w.t.Helper()
	work := w.t.TempDir()
	gittest.Run(w.t, work, "clone", "-q", w.dir, ".")
	if _, err := gittest.Output(work, "checkout", "-q", branch); err != nil {
		gittest.Run(w.t, work, "checkout", "-q", "-b", branch)
	}
	gittest.WriteFile(w.t, filepath.Join(work, file), "x = 1\n")
	gittest.Run(w.t, work, "add", "-A")
	gittest.Run(w.t, work, "commit", "-q", "-m", "change "+file)
	sha := gittest.Run(w.t, work, "rev-parse", "HEAD")
	gittest.Run(w.t, work, "push", "-q", "origin", "HEAD:refs/heads/"+branch+"-staged")
	gittest.Run(w.t, w.dir, "update-ref", "-d", "refs/heads/"+branch+"-staged")
	w.s.Push(project, login, branch, sha)
}

func request(id string) forge.Request {
	a := &artifact.Artifact{ID: id, Runbook: "scale-up", RunbookVersion: "v1", Policy: "default", Risk: "medium", Target: "api",
		Merge: artifact.Merge{Allowed: true}}
	return forge.Request{Branch: "remediation/" + id, Base: "main", Artifact: a, Seen: time.Unix(1700000000, 0), Reviewers: []string{"alice", "acme/sre"}}
}

// open pushes a proposal branch as the remediator and opens its merge request.
func (w *world) open(id string) forge.Proposal {
	w.t.Helper()
	w.push("remediator", "remediation/"+id, id+".tfvars")
	p, err := w.f.Open(context.Background(), request(id))
	if err != nil {
		w.t.Fatalf("open: %v", err)
	}
	return p
}

// count is what the lifecycle's rule makes of the merge request's approvals now.
func (w *world) count(p forge.Proposal) records.ReviewCount {
	w.t.Helper()
	ctx := context.Background()
	now, err := w.f.PullRequest(ctx, p.Number)
	if err != nil {
		w.t.Fatal(err)
	}
	reviews, err := w.f.Reviews(ctx, p.Number)
	if err != nil {
		w.t.Fatal(err)
	}
	pushers, err := w.f.Pushers(ctx, p.Number)
	if err != nil {
		w.t.Fatal(err)
	}
	return records.CountReviews(reviews, now.Head, append([]string{now.Author}, pushers...))
}

func (w *world) approve(p forge.Proposal, login string) {
	w.t.Helper()
	if err := w.s.Approve(project, int64(p.Number), login); err != nil {
		w.t.Fatalf("%s approves: %v", login, err)
	}
}

// TestOpenIsTheRemediatorsMergeRequest: opened from the project's own branch, with
// the marker, labels and reviewers; opening again returns the same; a merge request
// by anyone else carrying the same marker names nothing (a forged proposal).
func TestOpenIsTheRemediatorsMergeRequest(t *testing.T) {
	w := newWorld(t)
	p := w.open("a1")
	if p.Number != 1 || p.Author != "remediator" || p.Base != "main" || p.Branch != "remediation/a1" || p.State != forge.Open {
		t.Fatalf("proposal %+v", p)
	}
	mr := w.s.MergeRequests(project)[0]
	if !slices.Equal(mr.Labels, []string{"remediation", "risk:medium"}) || !slices.Equal(mr.Reviewers, []string{"alice"}) {
		t.Fatalf("labels %v, reviewers %v", mr.Labels, mr.Reviewers)
	}
	again, err := w.f.Open(context.Background(), request("a1"))
	if err != nil || again.Number != 1 || len(w.s.MergeRequests(project)) != 1 {
		t.Fatalf("opening again: %+v, %v", again, err)
	}
	// Mallory opens a merge request of her own with the remediator's marker.
	w.push("mallory", "remediation/forged", "forged.tfvars")
	forged, err := gitlab.New(gitlab.Options{BaseURL: w.s.URL, Project: project, Token: "mallory-token"})
	if err != nil {
		t.Fatal(err)
	}
	r := request("forged")
	if _, err := forged.Open(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	open, err := w.f.OpenProposals(context.Background())
	if err != nil || len(open) != 1 || open[0].Number != 1 {
		t.Fatalf("open proposals %+v, %v: want only the remediator's", open, err)
	}
	if _, found, err := w.f.Lookup(context.Background(), "remediation/forged"); found || err != nil {
		t.Fatalf("the forged merge request was found (%v)", err)
	}
}

// TestApprovalsCountOnlyForTheHeadTheyFollow: an approval GitLab dated before the
// newest push counts for nothing, even where the project keeps approvals on push;
// one after it counts.
func TestApprovalsCountOnlyForTheHeadTheyFollow(t *testing.T) {
	w := newWorld(t)
	p := w.open("b1")
	w.approve(p, "alice")
	if c := w.count(p); !slices.Equal(c.Approvers, []string{"alice"}) {
		t.Fatalf("approvers %v, want alice", c.Approvers)
	}
	// The remediator pushes again (a rebase): GitLab keeps alice's approval (the
	// project does not reset on push), but it was given before this head.
	w.push("remediator", "remediation/b1", "b1-more.tfvars")
	c := w.count(p)
	if len(c.Approvers) != 0 || len(c.Ignored) == 0 {
		t.Fatalf("approvers %v, ignored %v: an approval before the last push counted", c.Approvers, c.Ignored)
	}
	w.approve(p, "carol")
	if c := w.count(p); !slices.Equal(c.Approvers, []string{"carol"}) {
		t.Fatalf("approvers %v, want carol only", c.Approvers)
	}
}

// TestAPusherNeverApproves: a developer who pushed to the branch (GitLab's push
// events say who) is never an approver, whoever the commits name.
func TestAPusherNeverApproves(t *testing.T) {
	w := newWorld(t)
	p := w.open("c1")
	w.push("mallory", "remediation/c1", "evil.tfvars")
	w.approve(p, "mallory")
	c := w.count(p)
	if len(c.Approvers) != 0 {
		t.Fatalf("approvers %v: the pusher counted", c.Approvers)
	}
	pushers, _ := w.f.Pushers(context.Background(), p.Number)
	if !slices.Contains(pushers, "mallory") || !slices.Contains(pushers, "remediator") {
		t.Fatalf("pushers %v", pushers)
	}
}

// TestAccessIsTheMembersLevel: developer and above write; reporter, guest, a
// stranger and an unknown account do not. Group membership is inherited.
func TestAccessIsTheMembersLevel(t *testing.T) {
	w := newWorld(t)
	w.s.AddUser("stranger", "stranger-token")
	w.s.SetGroupMember("acme", "gina", fakegitlab.Maintainer)
	cases := map[string]bool{"alice": true, "remediator": true, "rita": false, "gus": false, "stranger": false, "nobody": false, "gina": true}
	for login, write := range cases {
		a, err := w.f.Access(context.Background(), login)
		if err != nil || a.Write != write {
			t.Errorf("%s: access %+v (%v), want write=%v", login, a, err, write)
		}
	}
	// A reporter's approval: GitLab itself refuses it; were it recorded, the lifecycle
	// drops a non-writer by Access (withoutNonWriters).
	p := w.open("d1")
	if err := w.s.Approve(project, int64(p.Number), "rita"); err == nil {
		t.Fatal("GitLab let a reporter approve")
	}
}

// TestGroupMembership: required reviewers' groups are GitLab groups, membership
// inherited from parent groups; an unknown group is an error, not "no".
func TestGroupMembership(t *testing.T) {
	w := newWorld(t)
	w.s.SetGroupMember("acme/sre", "alice", fakegitlab.Developer)
	w.s.SetGroupMember("acme", "carol", fakegitlab.Owner)
	ctx := context.Background()
	for login, want := range map[string]bool{"alice": true, "carol": true, "mallory": false} {
		if in, err := w.f.TeamMember(ctx, "acme/sre", login); err != nil || in != want {
			t.Errorf("%s in acme/sre: %v (%v), want %v", login, in, err, want)
		}
	}
	if _, err := w.f.TeamMember(ctx, "acme/nope", "alice"); err == nil {
		t.Error("an unknown group answered")
	}
}

// TestChecksComeFromReporters: a status by anyone but a reporter counts for
// nothing, whatever its name (a forged status); the reporter's newest counts.
func TestChecksComeFromReporters(t *testing.T) {
	w := newWorld(t)
	p := w.open("e1")
	w.s.SetStatus(project, p.Head, "plan", "success", "mallory")
	got, err := w.f.Checks(context.Background(), p.Head)
	if err != nil || len(got) != 0 {
		t.Fatalf("checks %v (%v): a forged status counted", got, err)
	}
	w.s.Pipeline(project, p.Branch, p.Head, "ci", map[string]string{"plan": "failed"})
	w.s.Pipeline(project, p.Branch, p.Head, "ci", map[string]string{"plan": "running"})
	if got, _ := w.f.Checks(context.Background(), p.Head); got["plan"] != forge.CheckPending {
		t.Fatalf("checks %v, want the newest (running) pending", got)
	}
	w.s.Pipeline(project, p.Branch, p.Head, "ci", map[string]string{"plan": "success"})
	w.s.SetStatus(project, p.Head, "plan", "failed", "mallory")
	if got, _ := w.f.Checks(context.Background(), p.Head); got["plan"] != forge.CheckSuccess {
		t.Fatalf("checks %v, want the reporter's success", got)
	}
	none, _ := gitlab.New(gitlab.Options{BaseURL: w.s.URL, Project: project, Token: "rtoken"})
	if got, _ := none.Checks(context.Background(), p.Head); len(got) != 0 {
		t.Fatalf("checks %v with no reporters: want none (fail closed)", got)
	}
}

// TestMergeIsACompareAndSwapOnTheHead: a moved head is ErrHeadMoved, GitLab's
// refusal ErrNotMergeable; the merge commit carries the message, squash off.
func TestMergeIsACompareAndSwapOnTheHead(t *testing.T) {
	w := newWorld(t)
	w.s.Configure(project, fakegitlab.Settings{ApprovalsRequired: 1})
	p := w.open("f1")
	ctx := context.Background()
	if _, err := w.f.Merge(ctx, p.Number, p.Head, "t", "m"); !errors.Is(err, forge.ErrNotMergeable) {
		t.Fatalf("unapproved merge: %v, want ErrNotMergeable", err)
	}
	w.approve(p, "alice")
	w.push("remediator", p.Branch, "f1-more.tfvars")
	if _, err := w.f.Merge(ctx, p.Number, p.Head, "t", "m"); !errors.Is(err, forge.ErrHeadMoved) {
		t.Fatalf("merge at an old head: %v, want ErrHeadMoved", err)
	}
	now, _ := w.f.PullRequest(ctx, p.Number)
	sha, err := w.f.Merge(ctx, p.Number, now.Head, "Remediate f1", "body\n\nRemediation-Id: f1")
	if err != nil {
		t.Fatal(err)
	}
	msg, squashed := w.s.MergeMessage(project, int64(p.Number))
	if squashed || !strings.HasPrefix(msg, "Remediate f1\n\nbody") || !strings.Contains(msg, "Remediation-Id: f1") ||
		gittest.Run(t, w.dir, "rev-parse", "main") != sha {
		t.Fatalf("merge %s: message %q squashed %v", sha, msg, squashed)
	}
	if _, err := w.f.Merge(ctx, p.Number, "", "t", "m"); err == nil {
		t.Fatal("a merge without sha was sent")
	}
}

// TestRetargetAndCloseAreSeen: a merge request retargeted by a person shows its new
// base; one closed by a person is a rejection, reopened or not.
func TestRetargetAndCloseAreSeen(t *testing.T) {
	w := newWorld(t)
	p := w.open("g1")
	w.push("remediator", "release", "release.tf")
	w.s.Retarget(project, int64(p.Number), "mallory", "release")
	ctx := context.Background()
	if now, _ := w.f.PullRequest(ctx, p.Number); now.Base != "release" {
		t.Fatalf("base %q after the retarget", now.Base)
	}
	w.s.CloseAs(project, int64(p.Number), "alice")
	w.s.Reopen(project, int64(p.Number), "alice")
	got, found, err := w.f.Lookup(ctx, p.Branch)
	if err != nil || !found || got.RejectedBy != "alice" || got.State != forge.Open {
		t.Fatalf("lookup %+v (%v): want open, rejected by alice", got, err)
	}
	// The remediator's own close is no rejection.
	q := w.open("g2")
	if err := w.f.Close(ctx, q, "resolved"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := w.f.Lookup(ctx, q.Branch); got.RejectedBy != "" || got.State != forge.Closed || !slices.Contains(got.Labels, forge.LabelResolved) {
		t.Fatalf("lookup %+v: want closed, resolved, no rejection", got)
	}
}

// TestReportsAndNotes: outcome status, one note and a label; the comment is kept
// one, and a person's note quoting the marker is never edited.
func TestReportsAndNotes(t *testing.T) {
	w := newWorld(t)
	p := w.open("h1")
	ctx := context.Background()
	w.s.AddNote(project, int64(p.Number), "mallory", "<!-- remediation:plan -->\nforged")
	if err := w.f.UpsertComment(ctx, p.Number, "<!-- remediation:plan -->", "plan ok"); err != nil {
		t.Fatal(err)
	}
	if err := w.f.UpsertComment(ctx, p.Number, "<!-- remediation:plan -->", "plan ok again"); err != nil {
		t.Fatal(err)
	}
	notes := w.s.MergeRequests(project)[0].Notes
	if len(notes) != 2 || notes[0] != "<!-- remediation:plan -->\nforged" || !strings.HasSuffix(notes[1], "plan ok again") {
		t.Fatalf("notes %q", notes)
	}
	if err := w.f.ReportOutcome(ctx, p.Branch, p.Head, forge.OutcomeVerified, "gone"); err != nil {
		t.Fatal(err)
	}
	if st := w.s.Statuses(project, p.Head); !slices.Contains(st, "remediation/outcome=success by remediator") {
		t.Fatalf("statuses %v", st)
	}
	if mr := w.s.MergeRequests(project)[0]; !slices.Contains(mr.Labels, forge.LabelVerified) || len(mr.Notes) != 3 {
		t.Fatalf("labels %v notes %d", mr.Labels, len(mr.Notes))
	}
	n, err := w.f.Recur(ctx, p, request("h1"))
	if err != nil || n != 1 {
		t.Fatalf("recur %d (%v)", n, err)
	}
	if n, _ := w.f.Recur(ctx, p, request("h1")); n != 2 {
		t.Fatalf("recur again %d, want 2", n)
	}
}

// TestTheAuthorNeverApproves: where the project lets authors approve, the
// remediator's own approval (its token's) still counts for nothing.
func TestTheAuthorNeverApproves(t *testing.T) {
	w := newWorld(t)
	w.s.Configure(project, fakegitlab.Settings{AuthorCanApprove: true})
	p := w.open("i1")
	w.approve(p, "remediator")
	if c := w.count(p); len(c.Approvers) != 0 {
		t.Fatalf("approvers %v: the author counted", c.Approvers)
	}
}

// TestARequestForChangesBlocks: a reviewer who requests changes blocks the merge
// request whatever the approvals, as a "changes requested" does on every forge,
// until that reviewer approves (GitLab then makes their state approved).
func TestARequestForChangesBlocks(t *testing.T) {
	w := newWorld(t)
	p := w.open("r1")
	w.approve(p, "carol")
	w.s.RequestChanges(project, int64(p.Number), "alice")
	c := w.count(p)
	if !slices.Equal(c.Blockers, []string{"alice"}) {
		t.Fatalf("blockers %v, want alice's request for changes", c.Blockers)
	}
	w.approve(p, "alice")
	if c := w.count(p); len(c.Blockers) != 0 || !slices.Contains(c.Approvers, "alice") {
		t.Fatalf("after alice approved: blockers %v, approvers %v", c.Blockers, c.Approvers)
	}
}
