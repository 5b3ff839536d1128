package fakegithub

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// What the gates depend on beyond opening pull requests: pushes that move a pull
// request's head (and tell of it with a synchronize event), reviews submitted and
// dismissed through the REST API with GitHub's rules, the commits of a pull request
// with the accounts their emails belong to, the authenticated user, and forks.

// AddEmail ties a commit email to a login, as a verified email of a GitHub account:
// the commits endpoint names the account of each commit's author and committer.
func (s *Server) AddEmail(login, email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emails[strings.ToLower(email)] = login
}

// CreateFork makes forkOwner/name a fork of owner/name (its branches copied) and
// returns the fork's bare repository, which forkOwner's token can push to.
func (s *Server) CreateFork(owner, name, forkOwner string) string {
	s.t.Helper()
	s.mu.Lock()
	src := s.repos[owner+"/"+name]
	s.mu.Unlock()
	dir := filepath.Join(s.root, forkOwner, name+".git")
	gittest.Run(s.t, "", "clone", "-q", "--bare", src.dir, dir)
	gittest.Run(s.t, dir, "config", "http.receivepack", "true")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.repos[forkOwner+"/"+name] = &repo{owner: forkOwner, name: name, id: s.nextID, dir: dir, created: s.now(), labels: map[string]int64{}, forkOf: src}
	return dir
}

// Protect sets the base branch's protection, which the merge endpoint enforces.
func (s *Server) Protect(owner, name string, p Protection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[owner+"/"+name].protection = &p
}

// Protection is a branch protection rule as data.
type Protection struct {
	RequiredApprovals       int
	DismissStaleReviews     bool
	RequireLastPushApproval bool
	RequiredChecks          []string
}

// afterPush runs after a push to rp by login: each open pull request whose head
// branch lives in rp and moved gets the new head, the pusher is remembered, stale
// reviews are dismissed where protection says so, and synchronize is delivered.
func (s *Server) afterPush(rp *repo, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, base := range s.repos {
		for _, p := range base.pulls {
			if p.state != "open" || s.headRepo(base, p) != rp {
				continue
			}
			sha, err := gittest.Output(rp.dir, "rev-parse", "--verify", "-q", "refs/heads/"+p.head)
			if err != nil || sha == p.headSHA {
				continue
			}
			before := p.headSHA
			p.headSHA, p.updated = sha, s.now()
			p.lastPusher = login
			if _, err := gittest.Output(rp.dir, "merge-base", "--is-ancestor", before, sha); err != nil {
				s.addEvent(p, "head_ref_force_pushed", login, "", nil)
			}
			if base.protection != nil && base.protection.DismissStaleReviews {
				for _, rv := range p.reviews {
					if rv.state == "APPROVED" {
						s.dismiss(p, rv, login, "The head moved: stale approvals are dismissed")
					}
				}
			}
			s.deliver("pull_request", map[string]any{"action": "synchronize", "number": p.number, "before": before, "after": sha,
				"pull_request": s.pull(base, p), "repository": s.repository(base), "sender": s.user(login)})
		}
	}
}

// headRepo is where a pull request's head branch lives: its fork, or the base.
func (s *Server) headRepo(base *repo, p *pull) *repo {
	if p.headRepo != nil {
		return p.headRepo
	}
	return base
}

// authenticatedUser answers GET /user.
func (s *Server) authenticatedUser(w http.ResponseWriter, r *http.Request) {
	login := r.Header.Get("X-Fake-Login")
	u := s.user(login)
	for k, v := range map[string]any{
		"user_view_type": "public", "name": login, "company": nil, "blog": "", "location": nil, "email": nil, "hireable": nil, "bio": nil,
		"public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
		"created_at": stamp(time.Unix(1600000000, 0)), "updated_at": stamp(time.Unix(1600000000, 0)),
	} {
		u[k] = v
	}
	writeJSON(w, http.StatusOK, u)
}

// listPullCommits answers GET .../pulls/{n}/commits: the commits from the base to the
// head, oldest first, each with the accounts its emails belong to (null when none).
func (s *Server) listPullCommits(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := s.findPull(w, r, rp, "pull_number")
	if p == nil {
		return
	}
	hr := s.headRepo(rp, p)
	// The fork holds the head; the base's commits are reachable there too (a fork is
	// a copy), so the range is read in the head's repository.
	out, err := gittest.Output(hr.dir, "log", "--reverse", "--format="+commitFormat, p.baseSHA+".."+p.headSHA)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var list []any
	for _, rec := range strings.Split(out, "\x1e") {
		if c := s.commitRecord(rp, rec); c != nil {
			list = append(list, c)
		}
	}
	page, per := paging(r.URL.Query())
	shown := []any{}
	shown = append(shown, pageOf(list, page, per)...)
	s.linkHeader(w, r, page, per, len(list))
	writeJSON(w, http.StatusOK, shown)
}

// commitFormat is what commitRecord reads, from git log --format.
const commitFormat = "%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI%x1f%T%x1f%B%x1e"

// commitRecord is one commit as the commits endpoints and payloads show it.
func (s *Server) commitRecord(rp *repo, rec string) map[string]any {
	f := strings.Split(strings.TrimLeft(rec, "\n"), "\x1f")
	if len(f) < 10 {
		return nil
	}
	full := rp.owner + "/" + rp.name
	parents := []any{}
	for _, ph := range strings.Fields(f[1]) {
		parents = append(parents, map[string]any{"sha": ph, "url": s.api("/repos/%s/commits/%s", full, ph), "html_url": fmt.Sprintf("%s/%s/commit/%s", s.URL, full, ph)})
	}
	u := s.api("/repos/%s/commits/%s", full, f[0])
	return map[string]any{
		"sha": f[0], "node_id": "C_" + f[0][:12], "url": u, "html_url": fmt.Sprintf("%s/%s/commit/%s", s.URL, full, f[0]),
		"comments_url": u + "/comments",
		"commit": map[string]any{
			"url": s.api("/repos/%s/git/commits/%s", full, f[0]), "message": strings.TrimRight(f[9], "\n"), "comment_count": 0,
			"author":       map[string]any{"name": f[2], "email": f[3], "date": f[4]},
			"committer":    map[string]any{"name": f[5], "email": f[6], "date": f[7]},
			"tree":         map[string]any{"sha": f[8], "url": s.api("/repos/%s/git/trees/%s", full, f[8])},
			"verification": map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil},
		},
		"author": s.accountOf(f[3]), "committer": s.accountOf(f[6]), "parents": parents,
	}
}

// statusPayload is the status webhook's payload: the status, its commit and the
// branches holding the commit.
func (s *Server) statusPayload(rp *repo, st *status, obj map[string]any) map[string]any {
	out, _ := gittest.Output(rp.dir, "log", "-1", "--format="+commitFormat, st.sha)
	commit := s.commitRecord(rp, out)
	branches := []any{}
	refs, _ := gittest.Output(rp.dir, "for-each-ref", "--contains", st.sha, "--format=%(refname:short)", "refs/heads/")
	for _, b := range strings.Fields(refs) {
		if len(branches) == 10 {
			break
		}
		branches = append(branches, map[string]any{"name": b, "protected": rp.protection != nil && b == "main",
			"commit": map[string]any{"sha": st.sha, "url": s.api("/repos/%s/%s/commits/%s", rp.owner, rp.name, st.sha)}})
	}
	return map[string]any{"id": st.id, "sha": st.sha, "name": rp.owner + "/" + rp.name, "state": st.state,
		"context": st.context, "description": obj["description"], "target_url": obj["target_url"], "commit": commit,
		"branches": branches, "created_at": stamp(st.created), "updated_at": stamp(st.created),
		"repository": s.repository(rp), "sender": s.user(st.creator)}
}

// accountOf is the account a commit email belongs to, or null.
func (s *Server) accountOf(email string) any {
	email = strings.ToLower(email)
	if login, ok := s.emails[email]; ok {
		return s.user(login)
	}
	if local, ok := strings.CutSuffix(email, "@users.noreply.github.com"); ok {
		if _, plus, found := strings.Cut(local, "+"); found {
			local = plus
		}
		if s.collabs[local] {
			return s.user(local)
		}
	}
	return nil
}

// createReview answers POST .../pulls/{n}/reviews as GitHub does: the pull request's
// author cannot approve or request changes on it (422), the commit must be one of the
// pull request's (422), and the review defaults to the current head.
func (s *Server) createReview(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := s.findPull(w, r, rp, "pull_number")
	if p == nil {
		return
	}
	var in struct {
		CommitID string `json:"commit_id"`
		Body     string `json:"body"`
		Event    string `json:"event"`
	}
	if !decode(w, r, &in) {
		return
	}
	login := r.Header.Get("X-Fake-Login")
	state, ok := map[string]string{"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}[in.Event]
	if !ok {
		reviewFailed(w, fmt.Sprintf("event %q is not one of APPROVE, REQUEST_CHANGES, COMMENT", in.Event))
		return
	}
	if strings.EqualFold(login, p.author) && state != "COMMENTED" {
		verb := map[string]string{"APPROVED": "approve", "CHANGES_REQUESTED": "request changes on"}[state]
		reviewFailed(w, fmt.Sprintf("Review Can not %s your own pull request", verb))
		return
	}
	sha := p.headSHA
	if in.CommitID != "" {
		if !s.inPull(rp, p, in.CommitID) {
			reviewFailed(w, "Commit "+in.CommitID+" is not part of the pull request")
			return
		}
		sha = in.CommitID
	}
	s.nextID++
	rv := &review{id: s.nextID, login: login, state: state, commitID: sha, submitted: s.now()}
	p.reviews = append(p.reviews, rv)
	p.updated = rv.submitted // as on GitHub, a review moves the pull request's updated_at
	p.reviewers = slices.DeleteFunc(p.reviewers, func(x string) bool { return strings.EqualFold(x, login) })
	writeJSON(w, http.StatusOK, s.review(rp, p, rv))
	s.deliver("pull_request_review", map[string]any{"action": "submitted", "review": s.hookReview(rp, p, rv), "pull_request": s.pull(rp, p),
		"repository": s.repository(rp), "sender": s.user(login)})
}

// dismissReview answers PUT .../reviews/{id}/dismissals: the review's state becomes
// DISMISSED, as on GitHub (no new review is added).
func (s *Server) dismissReview(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := s.findPull(w, r, rp, "pull_number")
	if p == nil {
		return
	}
	var in struct {
		Message string `json:"message"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Message == "" {
		reviewFailed(w, "message is required")
		return
	}
	if s.denied(w, r, rp, RoleWrite, http.StatusNotFound) {
		return // dismissing a review needs write access
	}
	id, _ := strconv.ParseInt(r.PathValue("review_id"), 10, 64)
	for _, rv := range p.reviews {
		if rv.id != id {
			continue
		}
		if rv.state != "APPROVED" && rv.state != "CHANGES_REQUESTED" {
			reviewFailed(w, "Can not dismiss a "+strings.ToLower(rv.state)+" pull request review")
			return
		}
		s.dismiss(p, rv, r.Header.Get("X-Fake-Login"), in.Message)
		p.updated = s.now()
		writeJSON(w, http.StatusOK, s.review(rp, p, rv))
		s.deliver("pull_request_review", map[string]any{"action": "dismissed", "review": s.hookReview(rp, p, rv), "pull_request": s.pull(rp, p),
			"repository": s.repository(rp), "sender": s.user(r.Header.Get("X-Fake-Login"))})
		return
	}
	notFound(w)
}

// inPull says whether sha is a commit of the pull request (from its base to its head).
func (s *Server) inPull(rp *repo, p *pull, sha string) bool {
	if sha == p.headSHA {
		return true
	}
	hr := s.headRepo(rp, p)
	out, err := gittest.Output(hr.dir, "rev-list", p.baseSHA+".."+p.headSHA)
	if err != nil {
		return false
	}
	return slices.Contains(strings.Fields(out), sha)
}

// reviewFailed is GitHub's 422 for a review it refuses.
func reviewFailed(w http.ResponseWriter, detail string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Unprocessable Entity", "errors": []any{detail},
		"documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request", "status": "422"})
}

// protectionRefusal is the reason GitHub's branch protection refuses a merge, or "".
func (s *Server) protectionRefusal(rp *repo, p *pull) string {
	pr := rp.protection
	if pr == nil {
		return ""
	}
	approvals := 0
	latest := map[string]*review{}
	for _, rv := range p.reviews {
		if rv.state != "COMMENTED" {
			latest[strings.ToLower(rv.login)] = rv
		}
	}
	for who, rv := range latest {
		if rv.state != "APPROVED" || (pr.DismissStaleReviews && rv.commitID != p.headSHA) {
			continue
		}
		if pr.RequireLastPushApproval && strings.EqualFold(who, p.lastPusher) {
			continue
		}
		approvals++
	}
	if approvals < pr.RequiredApprovals {
		return fmt.Sprintf("At least %d approving review is required by reviewers with write access.", pr.RequiredApprovals)
	}
	for _, name := range pr.RequiredChecks {
		if s.checkState(rp, p.headSHA, name) != "success" {
			return fmt.Sprintf("Required status check %q is expected.", name)
		}
	}
	return ""
}

// checkState is the newest commit status of a context on sha.
func (s *Server) checkState(rp *repo, sha, context string) string {
	state := ""
	for _, st := range rp.statuses {
		if st.sha == sha && st.context == context {
			state = st.state
		}
	}
	return state
}
