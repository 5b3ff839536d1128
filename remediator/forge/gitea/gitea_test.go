package gitea_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/giteatest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/gitea"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// world is one repository on the real Gitea with the accounts the tests act as:
// alice and carol may write, bob may only read, ci reports checks.
type world struct {
	t    *testing.T
	s    *giteatest.Server
	repo string
	f    *gitea.Forge
}

func newWorld(t *testing.T) *world {
	t.Helper()
	s := giteatest.Need(t, srv)
	repo := s.Repo(t, strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())))
	s.Collaborator(t, repo, "alice", "write")
	s.Collaborator(t, repo, "carol", "write")
	s.Collaborator(t, repo, "bob", "read")
	s.Collaborator(t, repo, "ci", "write")
	f, err := gitea.New(gitea.Options{BaseURL: s.URL, Owner: giteatest.Admin, Repository: repo, Token: s.Token, Reporters: []string{"ci"}})
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, s: s, repo: repo, f: f}
}

// commit adds a file on branch as login through Gitea's contents API (a commit
// authored and pushed by login), making the branch from main when asked; it
// returns the new head.
func (w *world) commit(login, branch, file string, newBranch bool) string {
	w.t.Helper()
	body := map[string]any{"content": base64.StdEncoding.EncodeToString([]byte("x = " + file + "\n")), "message": "change " + file}
	if newBranch {
		body["branch"], body["new_branch"] = "main", branch
	} else {
		body["branch"] = branch
	}
	var out struct {
		Commit struct {
			SHA string `json:"sha"`
		} `json:"commit"`
	}
	if err := w.s.API(context.Background(), login, http.MethodPost, fmt.Sprintf("/repos/%s/%s/contents/%s", giteatest.Admin, w.repo, file), body, &out); err != nil {
		w.t.Fatalf("commit %s on %s as %s: %v", file, branch, login, err)
	}
	return out.Commit.SHA
}

func request(id string) forge.Request {
	a := &artifact.Artifact{ID: id, Runbook: "scale-up", RunbookVersion: "v1", Policy: "default", Risk: "medium", Target: "api",
		Merge: artifact.Merge{Allowed: true}}
	return forge.Request{Branch: "remediation/" + id, Base: "main", Artifact: a, Seen: time.Unix(1700000000, 0)}
}

// open pushes a proposal branch as the remediator and opens its pull request.
func (w *world) open(id string) forge.Proposal { //nolint:unparam // one proposal per test today; the id names it
	w.t.Helper()
	w.commit(giteatest.Admin, "remediation/"+id, id+".tfvars", true)
	p, err := w.f.Open(context.Background(), request(id))
	if err != nil {
		w.t.Fatalf("open: %v", err)
	}
	return p
}

// review submits a review of the pull request's current head as login.
func (w *world) review(login string, number int, event string) int64 {
	w.t.Helper()
	var out struct {
		ID int64 `json:"id"`
	}
	if err := w.s.API(context.Background(), login, http.MethodPost, fmt.Sprintf("/repos/%s/%s/pulls/%d/reviews", giteatest.Admin, w.repo, number),
		map[string]any{"event": event, "body": "review by " + login}, &out); err != nil {
		w.t.Fatalf("%s reviews #%d %s: %v", login, number, event, err)
	}
	return out.ID
}

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

func TestOpenIsFoundAgainAndAStrangersPullRequestIsNot(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := w.open("r1")
	if p.Number == 0 || p.Author != giteatest.Admin || p.Base != "main" || p.State != forge.Open || p.ID != "r1" {
		t.Fatalf("opened %+v", p)
	}
	again, err := w.f.Open(ctx, request("r1"))
	if err != nil || again.Number != p.Number {
		t.Fatalf("opening twice: %+v, %v; want #%d", again, err, p.Number)
	}
	got, found, err := w.f.Lookup(ctx, "remediation/r1")
	if err != nil || !found || got.Number != p.Number {
		t.Fatalf("lookup: %+v %v %v", got, found, err)
	}
	if !containsAll(got.Labels, forge.LabelRemediation, "risk:medium") {
		t.Fatalf("labels %v", got.Labels)
	}
	// alice (write access) opens a pull request with the remediator's marker in it:
	// it names nothing.
	w.commit("alice", "remediation/r2", "r2.tfvars", true)
	if err := w.s.API(ctx, "alice", http.MethodPost, fmt.Sprintf("/repos/%s/%s/pulls", giteatest.Admin, w.repo),
		map[string]any{"head": "remediation/r2", "base": "main", "title": "forged", "body": forge.Body(request("r2"))}, nil); err != nil {
		t.Fatal(err)
	}
	if _, found, err := w.f.Lookup(ctx, "remediation/r2"); err != nil || found {
		t.Fatalf("a pull request alice opened with the marker was taken as the remediator's (found %v, %v)", found, err)
	}
	open, err := w.f.OpenProposals(ctx)
	if err != nil || len(open) != 1 || open[0].Number != p.Number {
		t.Fatalf("open proposals: %+v %v", open, err)
	}
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestReviewsCountOnlyOfficialApprovalsOfTheHeadByWriters: alice (write) approves
// and counts; bob (read only) approves and counts for nothing, in Gitea's word
// (not official) and in the lifecycle's (no write access); a comment decides
// nothing; carol's "request changes" (Gitea's REQUEST_CHANGES) blocks.
func TestReviewsCountOnlyOfficialApprovalsOfTheHeadByWriters(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := w.open("r1")
	w.review("alice", p.Number, "APPROVED")
	w.review("bob", p.Number, "APPROVED")
	w.review("carol", p.Number, "COMMENT")
	c := w.count(p)
	if strings.Join(c.Approvers, ",") != "alice" || len(c.Blockers) != 0 {
		t.Fatalf("count %+v: want alice alone", c)
	}
	if !strings.Contains(strings.Join(c.Ignored, ";"), "bob: approved unofficial") {
		t.Fatalf("bob's approval not set aside as unofficial: %+v", c.Ignored)
	}
	for login, write := range map[string]bool{"alice": true, "bob": false, "nobody-here": false} {
		a, err := w.f.Access(ctx, login)
		if err != nil || a.Write != write {
			t.Errorf("access of %s: %+v %v; want write %v", login, a, err, write)
		}
	}
	w.review("carol", p.Number, "REQUEST_CHANGES")
	if c := w.count(p); strings.Join(c.Blockers, ",") != "carol" {
		t.Fatalf("carol's REQUEST_CHANGES does not block: %+v", c)
	}
}

// TestDismissedAndStaleApprovalsNeverCount: an approval an admin dismissed is
// DISMISSED, explained by the timeline (who, and that it was an approval); an
// approval of an older head is stale after a push and counts for nothing.
func TestDismissedAndStaleApprovalsNeverCount(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := w.open("r1")
	id := w.review("alice", p.Number, "APPROVED")
	w.review("carol", p.Number, "APPROVED")
	if err := w.s.API(ctx, giteatest.Admin, http.MethodPost, fmt.Sprintf("/repos/%s/%s/pulls/%d/reviews/%d/dismissals", giteatest.Admin, w.repo, p.Number, id),
		map[string]any{"message": "no"}, nil); err != nil {
		t.Fatal(err)
	}
	if c := w.count(p); strings.Join(c.Approvers, ",") != "carol" {
		t.Fatalf("after alice's approval was dismissed: %+v; want carol alone", c)
	}
	events, err := w.f.Timeline(ctx, p.Number)
	if err != nil {
		t.Fatal(err)
	}
	var dismissal *forge.Event
	for i := range events {
		if events[i].Kind == forge.EventReviewDismissed {
			dismissal = &events[i]
		}
	}
	if dismissal == nil || dismissal.ReviewID != id || dismissal.ReviewState != "APPROVED" || dismissal.Actor != giteatest.Admin {
		t.Fatalf("timeline does not explain the dismissal: %+v", events)
	}
	// The remediator pushes a new head: carol's approval is of the old one.
	w.commit(giteatest.Admin, p.Branch, "more.tfvars", false)
	c := w.count(p)
	if len(c.Approvers) != 0 {
		t.Fatalf("an approval of the old head counts after a push: %+v", c)
	}
	// Gitea marks the approval stale once it has compared the new head (shortly
	// after the push); from then on the review names no commit at all.
	var reviews []forge.Review
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		reviews, _ = w.f.Reviews(ctx, p.Number)
		for _, r := range reviews {
			if r.Login == "carol" && r.CommitID == "stale" {
				return
			}
		}
	}
	t.Fatalf("Gitea's stale flag is not read: %+v", reviews)
}

// TestAPusherNeverApproves: carol pushes a commit to the branch, then approves the
// head she made: her approval is set aside, and so is a force-pusher's.
func TestAPusherNeverApproves(t *testing.T) {
	w := newWorld(t)
	p := w.open("r1")
	w.commit("carol", p.Branch, "carol.tfvars", false)
	w.review("carol", p.Number, "APPROVED")
	w.review("alice", p.Number, "APPROVED")
	c := w.count(p)
	if strings.Join(c.Approvers, ",") != "alice" || !strings.Contains(strings.Join(c.Ignored, ";"), "carol: the pull request's author or a pusher") {
		t.Fatalf("count %+v: want alice alone, carol set aside as a pusher", c)
	}
}

// TestChecksComeFromReporters: only the statuses ci created count; alice's success
// on the same context changes nothing, nor does her own context.
func TestChecksComeFromReporters(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := w.open("r1")
	status := func(login, context, state string) {
		t.Helper()
		if err := w.s.API(ctx, login, http.MethodPost, fmt.Sprintf("/repos/%s/%s/statuses/%s", giteatest.Admin, w.repo, p.Head),
			map[string]any{"state": state, "context": context}, nil); err != nil {
			t.Fatal(err)
		}
	}
	status("ci", "plan-check", "failure")
	status("alice", "plan-check", "success")
	status("alice", "applied", "success")
	got, err := w.f.Checks(ctx, p.Head)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["plan-check"] != forge.CheckFailure {
		t.Fatalf("checks %v: want plan-check failure (ci's) alone", got)
	}
	ci, err := gitea.New(gitea.Options{BaseURL: w.s.URL, Owner: giteatest.Admin, Repository: w.repo, Token: w.s.User(t, "ci"), Reporters: []string{"ci"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ci.ReportCheck(ctx, p.Head, "plan-check", forge.CheckSuccess, "ok"); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.f.Checks(ctx, p.Head); got["plan-check"] != forge.CheckSuccess {
		t.Fatalf("ci's newer success does not count: %v", got)
	}
	none, _ := gitea.New(gitea.Options{BaseURL: w.s.URL, Owner: giteatest.Admin, Repository: w.repo, Token: w.s.Token})
	if got, _ := none.Checks(ctx, p.Head); len(got) != 0 {
		t.Fatalf("with no reporters configured a status counted: %v", got)
	}
}

// TestMergeIsACompareAndSwapOnTheHead: a merge naming an older head is refused as
// forge.ErrHeadMoved; naming the head, it merges with the caller's message.
func TestMergeIsACompareAndSwapOnTheHead(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := w.open("r1")
	old := p.Head
	head := w.commit(giteatest.Admin, p.Branch, "more.tfvars", false)
	_, err := mergeSoon(ctx, w.f, p.Number, old)
	if !errors.Is(err, forge.ErrHeadMoved) {
		t.Fatalf("merge at the old head: %v; want forge.ErrHeadMoved", err)
	}
	sha, err := mergeSoon(ctx, w.f, p.Number, head)
	if err != nil {
		t.Fatalf("merge at the head: %v", err)
	}
	now, err := w.f.PullRequest(ctx, p.Number)
	if err != nil || now.State != forge.Merged || len(sha) != 40 {
		t.Fatalf("after the merge: %+v %v (merge %q)", now, err, sha)
	}
	var c struct {
		Commit struct {
			Message string `json:"message"`
		} `json:"commit"`
		Parents []struct {
			SHA string `json:"sha"`
		} `json:"parents"`
	}
	if err := w.s.API(ctx, giteatest.Admin, http.MethodGet, fmt.Sprintf("/repos/%s/%s/git/commits/%s", giteatest.Admin, w.repo, sha), nil, &c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Commit.Message, "Remediation-Id: r1") || len(c.Parents) != 2 || c.Parents[1].SHA != head {
		t.Fatalf("merge commit %+v: want the trailers and the reviewed head as second parent", c)
	}
}

// mergeSoon merges as the lifecycle's passes do: a forge.ErrRetryLater (Gitea still
// computing a new head's mergeability) is tried again.
func mergeSoon(ctx context.Context, f *gitea.Forge, number int, sha string) (string, error) {
	for i := 0; ; i++ {
		out, err := f.Merge(ctx, number, sha, "Remediation r1", "Remediation-Id: r1")
		if !errors.Is(err, forge.ErrRetryLater) || i == 50 {
			return out, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestACloseByAPersonIsARejection: alice closes the pull request; reopened or not,
// Lookup names her.
func TestACloseByAPersonIsARejection(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := w.open("r1")
	for _, state := range []string{"closed", "open"} {
		if err := w.s.API(ctx, "alice", http.MethodPatch, fmt.Sprintf("/repos/%s/%s/pulls/%d", giteatest.Admin, w.repo, p.Number), map[string]any{"state": state}, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, found, err := w.f.Lookup(ctx, p.Branch)
	if err != nil || !found || got.RejectedBy != "alice" || got.State != forge.Open {
		t.Fatalf("lookup after alice closed and reopened: %+v %v %v", got, found, err)
	}
	if err := w.f.Close(ctx, got, "resolved"); err != nil {
		t.Fatal(err)
	}
	got, _, _ = w.f.Lookup(ctx, p.Branch)
	if got.State != forge.Closed || !containsAll(got.Labels, forge.LabelResolved) {
		t.Fatalf("after the remediator closed it: %+v", got)
	}
}

// TestTeamMembershipIsGiteas: a required team "org/name" is asked of Gitea: alice,
// a member, is in it; bob is not; a team Gitea does not know is an error, never a
// "yes".
func TestTeamMembershipIsGiteas(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	org := "org-" + w.repo
	if len(org) > 40 {
		org = org[:40]
	}
	if err := w.s.API(ctx, giteatest.Admin, http.MethodPost, "/orgs", map[string]any{"username": org}, nil); err != nil {
		t.Fatal(err)
	}
	var team struct {
		ID int64 `json:"id"`
	}
	if err := w.s.API(ctx, giteatest.Admin, http.MethodPost, "/orgs/"+org+"/teams", map[string]any{"name": "sre", "permission": "write",
		"units": []string{"repo.code", "repo.pulls"}}, &team); err != nil {
		t.Fatal(err)
	}
	if err := w.s.API(ctx, giteatest.Admin, http.MethodPut, fmt.Sprintf("/teams/%d/members/alice", team.ID), nil, nil); err != nil {
		t.Fatal(err)
	}
	for login, want := range map[string]bool{"alice": true, "bob": false} {
		if in, err := w.f.TeamMember(ctx, org+"/sre", login); err != nil || in != want {
			t.Errorf("%s in %s/sre: %v %v; want %v", login, org, in, err, want)
		}
	}
	if in, err := w.f.TeamMember(ctx, org+"/nobody", "alice"); err == nil || in {
		t.Errorf("an unknown team answered %v, %v", in, err)
	}
}

// TestOpeningAgainKeepsApprovals: a second Open of a proposal already reviewed
// (a worker retried after a crash) asks for no review again: on Gitea a review
// request takes the official flag off the reviewer's approval.
func TestOpeningAgainKeepsApprovals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := request("r1")
	r.Reviewers = []string{"alice"}
	w.commit(giteatest.Admin, r.Branch, "r1.tfvars", true)
	p, err := w.f.Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	w.review("alice", p.Number, "APPROVED")
	if _, err := w.f.Open(ctx, r); err != nil {
		t.Fatal(err)
	}
	if c := w.count(p); strings.Join(c.Approvers, ",") != "alice" {
		t.Fatalf("after opening again: %+v; want alice's approval to stand", c)
	}
}
