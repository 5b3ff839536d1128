package fakegithub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// The handlers run with s.mu held.

func (s *Server) findPull(w http.ResponseWriter, r *http.Request, rp *repo, param string) *pull {
	n, err := strconv.Atoi(r.PathValue(param))
	if err != nil || n < 1 || n > len(rp.pulls) {
		notFound(w)
		return nil
	}
	return rp.pulls[n-1]
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/rest", "status": "400"})
		return false
	}
	return true
}

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request, rp *repo) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var ps []*pull
	for _, p := range rp.pulls {
		if state != "all" && p.state != state {
			continue
		}
		if h := q.Get("head"); h != "" {
			owner, branch, ok := strings.Cut(h, ":")
			if !ok || owner != s.headRepo(rp, p).owner || branch != p.head {
				continue
			}
		}
		if b := q.Get("base"); b != "" && b != p.base {
			continue
		}
		ps = append(ps, p)
	}
	sortPulls(ps, q.Get("sort"), q.Get("direction") == "desc" || q.Get("direction") == "" && q.Get("sort") != "")
	page, per := paging(q)
	out := []any{}
	for _, p := range pageOf(ps, page, per) {
		out = append(out, s.pullSimple(rp, p))
	}
	s.linkHeader(w, r, page, per, len(ps))
	writeJSON(w, http.StatusOK, out)
}

// paging reads page and per_page as GitHub does: per_page at most 100, default 30.
func paging(q url.Values) (page, per int) {
	page, per = 1, 30
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	return page, per
}

// linkHeader writes GitHub's pagination links (the shape of @octokit/fixtures'
// paginate-issues recording).
// pageOf is one page of a list, as GitHub's page and per_page parameters cut it.
func pageOf[T any](items []T, page, per int) []T {
	return items[min((page-1)*per, len(items)):min(page*per, len(items))]
}

func (s *Server) linkHeader(w http.ResponseWriter, r *http.Request, page, per, total int) {
	last := max(1, (total+per-1)/per)
	if last == 1 {
		return
	}
	at := func(p int) string {
		q := r.URL.Query()
		q.Del("page")
		q.Del("per_page")
		rest := q.Encode()
		if rest != "" {
			rest += "&"
		}
		return fmt.Sprintf("<%s%s?%sper_page=%d&page=%d>", s.URL, r.URL.Path, rest, per, p)
	}
	var links []string
	if page > 1 {
		links = append(links, at(page-1)+`; rel="prev"`)
	}
	if page < last {
		links = append(links, at(page+1)+`; rel="next"`, at(last)+`; rel="last"`)
	}
	if page > 1 {
		links = append(links, at(1)+`; rel="first"`)
	}
	w.Header().Set("Link", strings.Join(links, ", "))
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request, rp *repo) {
	var in struct {
		Title, Head, Base string
		Body              *string
		Draft             bool
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Title == "" {
		validationFailed(w, map[string]any{"resource": "PullRequest", "code": "missing_field", "field": "title"})
		return
	}
	// "owner:branch" names a fork's branch; a bare branch is the base repository's.
	headRepo, headRef := rp, in.Head
	if owner, branch, ok := strings.Cut(in.Head, ":"); ok {
		fork := s.repos[owner+"/"+rp.name]
		if owner != rp.owner && (fork == nil || fork.forkOf != rp) {
			validationFailed(w, map[string]any{"resource": "PullRequest", "code": "invalid", "field": "head"})
			return
		}
		if fork != nil {
			headRepo = fork
		}
		headRef = branch
	}
	in.Head = headRef
	head, herr := gittest.Output(headRepo.dir, "rev-parse", "--verify", "-q", "refs/heads/"+in.Head)
	if herr != nil {
		validationFailed(w, map[string]any{"resource": "PullRequest", "code": "invalid", "field": "head"})
		return
	}
	base, berr := gittest.Output(rp.dir, "rev-parse", "--verify", "-q", "refs/heads/"+in.Base)
	if berr != nil {
		validationFailed(w, map[string]any{"resource": "PullRequest", "code": "invalid", "field": "base"})
		return
	}
	for _, p := range rp.pulls {
		if p.state == "open" && p.head == in.Head && p.base == in.Base && s.headRepo(rp, p) == headRepo {
			validationFailed(w, map[string]any{"resource": "PullRequest", "code": "custom",
				"message": fmt.Sprintf("A pull request already exists for %s:%s.", rp.owner, in.Head)})
			return
		}
	}
	now := s.now()
	s.nextID++
	p := &pull{id: s.nextID, number: len(rp.pulls) + 1, title: in.Title, author: r.Header.Get("X-Fake-Login"),
		state: "open", head: in.Head, headSHA: head, base: in.Base, baseSHA: base, created: now, updated: now}
	if headRepo != rp {
		p.headRepo = headRepo
	}
	if in.Body != nil {
		p.body = *in.Body
	}
	rp.pulls = append(rp.pulls, p)
	w.Header().Set("Location", s.api("/repos/%s/%s/pulls/%d", rp.owner, rp.name, p.number))
	writeJSON(w, http.StatusCreated, s.pull(rp, p))
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request, rp *repo) {
	if p := s.findPull(w, r, rp, "pull_number"); p != nil {
		writeJSON(w, http.StatusOK, s.pull(rp, p))
	}
}

func (s *Server) updatePull(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := s.findPull(w, r, rp, "pull_number")
	if p == nil {
		return
	}
	var in struct {
		Title, Body, State, Base *string
	}
	if !decode(w, r, &in) {
		return
	}
	// As on GitHub: the author may edit their pull request; anyone else needs write
	// access to edit it, and triage to close or reopen it.
	login := r.Header.Get("X-Fake-Login")
	want := RoleWrite
	if in.Title == nil && in.Body == nil && in.Base == nil {
		want = RoleTriage
	}
	if !strings.EqualFold(login, p.author) && s.denied(w, r, rp, want, http.StatusForbidden) {
		return
	}
	if in.Base != nil {
		base, err := gittest.Output(rp.dir, "rev-parse", "--verify", "-q", "refs/heads/"+*in.Base)
		if err != nil {
			validationFailed(w, map[string]any{"resource": "PullRequest", "code": "invalid", "field": "base"})
			return
		}
		p.base, p.baseSHA = *in.Base, base
	}
	if in.Title != nil {
		p.title = *in.Title
	}
	if in.Body != nil {
		p.body = *in.Body
	}
	if in.State != nil {
		if *in.State != "open" && *in.State != "closed" {
			validationFailed(w, map[string]any{"resource": "PullRequest", "code": "invalid", "field": "state"})
			return
		}
		if *in.State != p.state && p.merged.IsZero() {
			kind := map[string]string{"open": "reopened", "closed": "closed"}[*in.State]
			s.addEvent(p, kind, login, "", nil)
			p.state = *in.State
			p.closed = time.Time{}
			if p.state == "closed" {
				p.closed = s.now()
			}
		}
	}
	p.updated = s.now()
	writeJSON(w, http.StatusOK, s.pull(rp, p))
}

func (s *Server) requestReviewers(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := s.findPull(w, r, rp, "pull_number")
	if p == nil {
		return
	}
	var in struct {
		Reviewers     []string `json:"reviewers"`
		TeamReviewers []string `json:"team_reviewers"`
	}
	if !decode(w, r, &in) {
		return
	}
	for _, rv := range in.Reviewers {
		if rv == p.author {
			validationFailed(w, map[string]any{"resource": "PullRequest", "code": "custom", "message": "Review cannot be requested from pull request author."})
			return
		}
		if !s.collabs[rv] {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the " + rp.owner + "/" + rp.name + " repository.", "documentation_url": "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request", "status": "422"})
			return
		}
	}
	for _, t := range in.TeamReviewers {
		if _, ok := s.teams[rp.owner+"/"+t]; !ok {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the " + rp.owner + "/" + rp.name + " repository.", "documentation_url": "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request", "status": "422"})
			return
		}
	}
	for _, rv := range in.Reviewers {
		if !slices.Contains(p.reviewers, rv) {
			p.reviewers = append(p.reviewers, rv)
		}
	}
	for _, t := range in.TeamReviewers {
		if !slices.Contains(p.teams, t) {
			p.teams = append(p.teams, t)
		}
	}
	writeJSON(w, http.StatusCreated, s.pullSimple(rp, p))
}

func (s *Server) addLabels(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := s.findPull(w, r, rp, "issue_number")
	if p == nil {
		return
	}
	// GitHub takes {"labels": [...]} or a bare array of names (what go-github sends).
	var raw json.RawMessage
	if !decode(w, r, &raw) {
		return
	}
	var in struct {
		Labels []string `json:"labels"`
	}
	if err := json.Unmarshal(raw, &in.Labels); err != nil {
		if err := json.Unmarshal(raw, &in); err != nil {
			validationFailed(w, map[string]any{"resource": "Label", "code": "invalid", "field": "labels"})
			return
		}
	}
	for _, l := range in.Labels {
		if !slices.Contains(p.labels, l) {
			p.labels = append(p.labels, l)
		}
	}
	out := []any{}
	for _, l := range p.labels {
		out = append(out, s.label(rp, l))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := s.findPull(w, r, rp, "issue_number")
	if p == nil {
		return
	}
	page, per := paging(r.URL.Query())
	out := []any{}
	for _, c := range pageOf(p.comments, page, per) {
		out = append(out, s.comment(rp, c))
	}
	s.linkHeader(w, r, page, per, len(p.comments))
	writeJSON(w, http.StatusOK, out)
}

// maxCommentBody is GitHub's limit on a comment body.
const maxCommentBody = 65536

// commentBody reads a comment's body, refusing one over GitHub's limit as GitHub does.
func commentBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Body string `json:"body"`
	}
	if !decode(w, r, &in) {
		return "", false
	}
	if len([]rune(in.Body)) > maxCommentBody {
		validationFailed(w, map[string]any{"resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"})
		return "", false
	}
	return in.Body, true
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := s.findPull(w, r, rp, "issue_number")
	if p == nil {
		return
	}
	body, ok := commentBody(w, r)
	if !ok {
		return
	}
	now := s.now()
	s.nextID++
	c := &comment{id: s.nextID, issue: p.number, body: body, author: r.Header.Get("X-Fake-Login"), created: now, updated: now}
	p.comments = append(p.comments, c)
	rp.comments = append(rp.comments, c)
	writeJSON(w, http.StatusCreated, s.comment(rp, c))
}

func (s *Server) updateComment(w http.ResponseWriter, r *http.Request, rp *repo) {
	id, _ := strconv.ParseInt(r.PathValue("comment_id"), 10, 64)
	var c *comment
	for _, x := range rp.comments {
		if x.id == id {
			c = x
		}
	}
	if c == nil {
		notFound(w)
		return
	}
	body, ok := commentBody(w, r)
	if !ok {
		return
	}
	c.body, c.updated = body, s.now()
	writeJSON(w, http.StatusOK, s.comment(rp, c))
}

func (s *Server) deleteComment(w http.ResponseWriter, r *http.Request, rp *repo) {
	id, _ := strconv.ParseInt(r.PathValue("comment_id"), 10, 64)
	for i, c := range rp.comments {
		if c.id != id {
			continue
		}
		rp.comments = append(rp.comments[:i], rp.comments[i+1:]...)
		p := rp.pulls[c.issue-1]
		for j, pc := range p.comments {
			if pc.id == id {
				p.comments = append(p.comments[:j], p.comments[j+1:]...)
				break
			}
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	notFound(w)
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request, rp *repo) {
	if s.denied(w, r, rp, RoleWrite, http.StatusNotFound) {
		return // a status needs write access
	}
	sha := r.PathValue("sha")
	if _, err := gittest.Output(rp.dir, "cat-file", "-e", sha+"^{commit}"); err != nil {
		validationFailed(w, map[string]any{"resource": "Status", "code": "custom", "field": "sha", "message": "No commit found for SHA: " + sha})
		return
	}
	var in struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if !decode(w, r, &in) {
		return
	}
	switch in.State {
	case "error", "failure", "pending", "success":
	default:
		validationFailed(w, map[string]any{"resource": "Status", "code": "custom", "field": "state", "message": "state is not included in the list"})
		return
	}
	if in.Context == "" {
		in.Context = "default"
	}
	s.nextID++
	st := &status{id: s.nextID, sha: sha, state: in.State, context: in.Context, desc: in.Description, target: in.TargetURL,
		creator: r.Header.Get("X-Fake-Login"), created: s.now()}
	rp.statuses = append(rp.statuses, st)
	obj := s.status(rp, st)
	writeJSON(w, http.StatusCreated, obj)
	s.deliver("status", s.statusPayload(rp, st, obj))
}

func (s *Server) listReviews(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := s.findPull(w, r, rp, "pull_number")
	if p == nil {
		return
	}
	page, per := paging(r.URL.Query())
	out := []any{}
	for _, rv := range pageOf(p.reviews, page, per) {
		out = append(out, s.review(rp, p, rv))
	}
	s.linkHeader(w, r, page, per, len(p.reviews))
	writeJSON(w, http.StatusOK, out)
}

// mergePull merges as GitHub does: only an open pull request, only at the head the
// caller names (409 otherwise), with a real merge commit in the bare repository.
func (s *Server) mergePull(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := s.findPull(w, r, rp, "pull_number")
	if p == nil {
		return
	}
	var in struct {
		CommitTitle   string `json:"commit_title"`
		CommitMessage string `json:"commit_message"`
		SHA           string `json:"sha"`
		MergeMethod   string `json:"merge_method"`
	}
	if !decode(w, r, &in) {
		return
	}
	if s.denied(w, r, rp, RoleWrite, http.StatusForbidden) {
		return // merging needs write access
	}
	head, err := gittest.Output(rp.dir, "rev-parse", "refs/heads/"+p.head)
	if p.state != "open" || err != nil {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "Pull Request is not mergeable", "documentation_url": "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"})
		return
	}
	if in.MergeMethod == "" {
		in.MergeMethod = "merge"
	}
	if in.MergeMethod != "merge" && in.MergeMethod != "squash" && in.MergeMethod != "rebase" {
		validationFailed(w, map[string]any{"resource": "PullRequest", "code": "invalid", "field": "merge_method",
			"message": "merge_method must be one of merge, squash, rebase"})
		return
	}
	if reason := s.protectionRefusal(rp, p); reason != "" {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": reason, "documentation_url": "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"})
		return
	}
	if in.SHA != "" && in.SHA != head {
		writeJSON(w, http.StatusConflict, map[string]any{"message": "Head branch was modified. Review and try the merge again.", "documentation_url": "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"})
		return
	}
	work, err := os.MkdirTemp("", "fakegithub-merge-")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer os.RemoveAll(work)
	msg := in.CommitTitle
	if msg == "" {
		msg = fmt.Sprintf("Merge pull request #%d from %s/%s", p.number, rp.owner, p.head)
	}
	if in.CommitMessage != "" {
		msg += "\n\n" + in.CommitMessage
	}
	login := r.Header.Get("X-Fake-Login")
	steps := [][]string{
		{"clone", "-q", "-b", p.base, rp.dir, work},
		{"-C", work, "-c", "user.name=" + login, "-c", "user.email=" + login + "@users.noreply.github.com", "merge", "-q", "--no-ff", "-m", msg, head},
		{"-C", work, "push", "-q", "origin", p.base},
	}
	if in.MergeMethod == "rebase" {
		// The pull request's commits replayed on the base, no merge commit: what
		// GitHub's rebase merge makes (committer is the merger).
		ident := []string{"-c", "user.name=" + login, "-c", "user.email=" + login + "@users.noreply.github.com"}
		steps = [][]string{
			steps[0],
			{"-C", work, "fetch", "-q", rp.dir, head},
			append(append([]string{"-C", work}, ident...), "cherry-pick", "--allow-empty", p.baseSHA+".."+head),
			steps[2],
		}
	}
	if in.MergeMethod == "squash" {
		// One commit with the change, one parent: what GitHub's squash merge makes.
		ident := []string{"-c", "user.name=" + login, "-c", "user.email=" + login + "@users.noreply.github.com"}
		steps = [][]string{
			steps[0],
			{"-C", work, "fetch", "-q", rp.dir, head},
			append(append([]string{"-C", work}, ident...), "merge", "-q", "--squash", head),
			append(append([]string{"-C", work}, ident...), "commit", "-q", "-m", msg),
			steps[2],
		}
	}
	for _, args := range steps {
		if out, err := gittest.Output("", args...); err != nil {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "Pull Request is not mergeable: " + out})
			return
		}
	}
	sha, _ := gittest.Output(rp.dir, "rev-parse", "refs/heads/"+p.base)
	now := s.now()
	p.state, p.merged, p.closed, p.updated, p.mergedBy, p.mergeSHA = "closed", now, now, now, login, sha
	s.addEvent(p, "merged", login, sha, nil)
	s.addEvent(p, "closed", login, "", nil)
	writeJSON(w, http.StatusOK, map[string]any{"sha": sha, "merged": true, "message": "Pull Request successfully merged"})
	s.deliver("pull_request", map[string]any{"action": "closed", "number": p.number, "pull_request": s.pull(rp, p),
		"repository": s.repository(rp), "sender": s.user(login)})
}
