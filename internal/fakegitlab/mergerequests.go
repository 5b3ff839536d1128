package fakegitlab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

type mergeRequest struct {
	id, iid                    int64
	title, description, author string
	source, target, sha        string
	state                      string // opened, closed, merged
	labels                     []string
	reviewers                  []string
	// reviewState is each reviewer's state as GitLab keeps it: unreviewed,
	// requested_changes, approved; absent is unreviewed.
	reviewState            map[string]string
	squash                 bool
	created, updated       time.Time
	closedAt, mergedAt     time.Time
	closedBy, mergedBy     string
	mergeSHA, mergeMessage string
	versions               []*version
	approvals              []*approval
	notes                  []*note
	events                 []*stateEvent
}

type version struct {
	id                int64
	head, base, start string
	created           time.Time
}

type approval struct {
	username string
	at       time.Time
}

// moveHead gives a merge request a new head: a version dated now, and no approval
// left when the project resets approvals on push.
func (s *Server) moveHead(p *project, m *mergeRequest, sha, login string) {
	m.sha, m.updated = sha, s.now()
	s.addVersion(p, m)
	if p.settings.ResetOnPush {
		m.approvals = nil
	}
	s.deliver(p, "Merge Request Hook", s.mrHook(p, m, "update", login))
}

func (s *Server) addVersion(p *project, m *mergeRequest) {
	base, _ := gittest.Output(p.dir, "rev-parse", "refs/heads/"+m.target)
	start := base
	if mb, err := gittest.Output(p.dir, "merge-base", base, m.sha); err == nil {
		base = mb
	}
	s.nextID++
	m.versions = append(m.versions, &version{id: s.nextID, head: m.sha, base: base, start: start, created: s.now()})
}

func (s *Server) findMR(w http.ResponseWriter, r *http.Request, p *project) *mergeRequest {
	iid, _ := strconv.ParseInt(r.PathValue("iid"), 10, 64)
	for _, m := range p.mrs {
		if m.iid == iid {
			return m
		}
	}
	notFound(w, "Not found")
	return nil
}

// mrJSON is a merge request as GET /projects/:id/merge_requests/:iid answers it.
func (s *Server) mrJSON(p *project, m *mergeRequest) map[string]any {
	reviewers := []any{}
	for _, r := range m.reviewers {
		reviewers = append(reviewers, s.userJSON(r))
	}
	labels := append([]string{}, m.labels...)
	var mergedBy, closedBy any
	if m.mergedBy != "" {
		mergedBy = s.userJSON(m.mergedBy)
	}
	if m.closedBy != "" {
		closedBy = s.userJSON(m.closedBy)
	}
	var mergeSHA any
	if m.mergeSHA != "" {
		mergeSHA = m.mergeSHA
	}
	var head any
	if pl := s.latestPipeline(p, m.sha); pl != nil {
		head = s.pipelineJSON(p, pl)
	}
	status := "can_be_merged"
	if m.state != "opened" {
		status = "cannot_be_merged"
	}
	return map[string]any{
		"id": m.id, "iid": m.iid, "project_id": p.id, "title": m.title, "description": m.description, "state": m.state,
		"created_at": stamp(m.created), "updated_at": stamp(m.updated), "merged_by": mergedBy, "merged_at": stamp(m.mergedAt),
		"closed_by": closedBy, "closed_at": stamp(m.closedAt), "target_branch": m.target, "source_branch": m.source,
		"author": s.userJSON(m.author), "reviewers": reviewers, "assignees": []any{}, "assignee": nil,
		"source_project_id": p.id, "target_project_id": p.id, "labels": labels, "draft": false, "work_in_progress": false,
		"merge_when_pipeline_succeeds": false, "merge_status": status, "detailed_merge_status": detailedStatus(m),
		"sha": m.sha, "merge_commit_sha": mergeSHA, "squash": m.squash, "squash_commit_sha": nil, "user_notes_count": len(m.notes),
		"should_remove_source_branch": nil, "force_remove_source_branch": false, "web_url": fmt.Sprintf("%s/%s/-/merge_requests/%d", s.URL, p.path, m.iid),
		"reference": fmt.Sprintf("!%d", m.iid), "references": map[string]any{"short": fmt.Sprintf("!%d", m.iid), "relative": fmt.Sprintf("!%d", m.iid), "full": fmt.Sprintf("%s!%d", p.path, m.iid)},
		"has_conflicts": false, "blocking_discussions_resolved": true, "head_pipeline": head, "pipeline": head,
		"diff_refs": s.diffRefs(m), "upvotes": 0, "downvotes": 0, "discussion_locked": nil,
	}
}

// basic is a merge request as lists answer it: without its diff refs and pipelines.
func basic(m map[string]any) map[string]any {
	for _, k := range []string{"diff_refs", "head_pipeline", "pipeline", "merge_status"} {
		delete(m, k)
	}
	return m
}

func detailedStatus(m *mergeRequest) string {
	switch m.state {
	case "merged":
		return "merged"
	case "closed":
		return "not_open"
	}
	return "mergeable"
}

func (s *Server) diffRefs(m *mergeRequest) any {
	if len(m.versions) == 0 {
		return nil
	}
	v := m.versions[len(m.versions)-1]
	return map[string]any{"base_sha": v.base, "head_sha": v.head, "start_sha": v.start}
}

// listMRs answers GET /projects/:id/merge_requests: newest first, filtered by state,
// author, source branch and update time, paged.
func (s *Server) listMRs(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	s.mu.Lock()
	var list []any
	for i := len(c.p.mrs) - 1; i >= 0; i-- {
		m := c.p.mrs[i]
		if st := q.Get("state"); st != "" && st != "all" && st != m.state {
			continue
		}
		if a := q.Get("author_username"); a != "" && !strings.EqualFold(a, m.author) {
			continue
		}
		if a := q.Get("author_id"); a != "" && (s.users[strings.ToLower(m.author)] == nil || strconv.FormatInt(s.users[strings.ToLower(m.author)].id, 10) != a) {
			continue
		}
		if b := q.Get("source_branch"); b != "" && b != m.source {
			continue
		}
		if u := q.Get("created_after"); u != "" {
			if t, err := time.Parse(time.RFC3339, u); err == nil && m.created.Before(t) {
				continue
			}
		}
		if u := q.Get("updated_after"); u != "" {
			if t, err := time.Parse(time.RFC3339, u); err == nil && m.updated.Before(t) {
				continue
			}
		}
		list = append(list, basic(s.mrJSON(c.p, m)))
	}
	s.mu.Unlock()
	sortMRs(list, q.Get("order_by"), q.Get("sort"))
	writePage(w, r, list)
}

// sortMRs orders a list as GitLab does: by created_at (the default) or updated_at,
// newest first unless sort=asc; ties by id, as the database breaks them.
func sortMRs(list []any, orderBy, dir string) {
	key := "created_at"
	if orderBy == "updated_at" {
		key = "updated_at"
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].(map[string]any), list[j].(map[string]any)
		ka, kb := a[key].(string), b[key].(string)
		if ka == kb {
			ka, kb = fmt.Sprint(a["id"]), fmt.Sprint(b["id"])
			if len(ka) != len(kb) {
				return (len(ka) < len(kb)) == (dir == "asc")
			}
		}
		return (ka < kb) == (dir == "asc")
	})
}

// writePage answers one page of a list, with GitLab's paging headers.
func writePage(w http.ResponseWriter, r *http.Request, all []any) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	page, per = max(page, 1), min(max(per, 1), 100)
	if r.URL.Query().Get("per_page") == "" {
		per = 20
	}
	from, to := min((page-1)*per, len(all)), min(page*per, len(all))
	total := (len(all) + per - 1) / per
	w.Header().Set("X-Page", strconv.Itoa(page))
	w.Header().Set("X-Per-Page", strconv.Itoa(per))
	w.Header().Set("X-Total", strconv.Itoa(len(all)))
	w.Header().Set("X-Total-Pages", strconv.Itoa(max(total, 1)))
	if to < len(all) {
		w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
	} else {
		w.Header().Set("X-Next-Page", "")
	}
	out := all[from:to]
	if out == nil {
		out = []any{}
	}
	writeJSON(w, http.StatusOK, out)
}

// mrOptions are the fields of a create or update request the server reads.
type mrOptions struct {
	Title        *string  `json:"title"`
	Description  *string  `json:"description"`
	SourceBranch string   `json:"source_branch"`
	TargetBranch *string  `json:"target_branch"`
	Labels       *string  `json:"labels"`
	AddLabels    *string  `json:"add_labels"`
	ReviewerIDs  *[]int64 `json:"reviewer_ids"`
	StateEvent   string   `json:"state_event"`
	Squash       *bool    `json:"squash"`
}

// createMR answers POST /projects/:id/merge_requests: from a branch of the same
// project; a second open merge request of the same branch is refused (409).
func (s *Server) createMR(w http.ResponseWriter, r *http.Request, c *call) {
	var o mrOptions
	if json.NewDecoder(r.Body).Decode(&o) != nil || o.Title == nil || o.SourceBranch == "" || o.TargetBranch == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "400 Bad request - title, source_branch and target_branch are missing"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.level(c.p, c.login) < Developer {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "403 Forbidden"})
		return
	}
	sha, err := gittest.Output(c.p.dir, "rev-parse", "--verify", "-q", "refs/heads/"+o.SourceBranch)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": []string{"Source branch \"" + o.SourceBranch + "\" does not exist"}})
		return
	}
	for _, m := range c.p.mrs {
		if m.state == "opened" && m.source == o.SourceBranch && m.target == *o.TargetBranch {
			writeJSON(w, http.StatusConflict, map[string]any{"message": []string{fmt.Sprintf("Another open merge request already exists for this source branch: !%d", m.iid)}})
			return
		}
	}
	s.nextID++
	m := &mergeRequest{id: s.nextID, iid: int64(len(c.p.mrs) + 1), title: *o.Title, author: c.login, source: o.SourceBranch,
		target: *o.TargetBranch, sha: sha, state: "opened", created: s.now(), updated: s.now()}
	if o.Description != nil {
		m.description = *o.Description
	}
	if o.Squash != nil {
		m.squash = *o.Squash
	}
	s.applyLabels(c.p, m, o)
	s.applyReviewers(m, o)
	c.p.mrs = append(c.p.mrs, m)
	s.addVersion(c.p, m)
	s.deliver(c.p, "Merge Request Hook", s.mrHook(c.p, m, "open", c.login))
	writeJSON(w, http.StatusCreated, s.mrJSON(c.p, m))
}

func (s *Server) applyLabels(p *project, m *mergeRequest, o mrOptions) {
	if o.Labels != nil {
		m.labels = nil
	}
	for _, list := range []*string{o.Labels, o.AddLabels} {
		if list == nil {
			continue
		}
		for _, l := range strings.Split(*list, ",") {
			if l = strings.TrimSpace(l); l != "" && !slices.Contains(m.labels, l) {
				m.labels = append(m.labels, l)
				if _, ok := p.labels[l]; !ok { // GitLab creates a label named that does not exist
					s.nextID++
					p.labels[l] = s.nextID
				}
			}
		}
	}
}

func (s *Server) applyReviewers(m *mergeRequest, o mrOptions) {
	if o.ReviewerIDs == nil {
		return
	}
	m.reviewers = nil
	for _, id := range *o.ReviewerIDs {
		if u := s.userByID(strconv.FormatInt(id, 10)); u != nil {
			m.reviewers = append(m.reviewers, u.username)
		}
	}
}

func (s *Server) getMR(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.findMR(w, r, c.p); m != nil {
		writeJSON(w, http.StatusOK, s.mrJSON(c.p, m))
	}
}

// updateMR answers PUT /projects/:id/merge_requests/:iid: description, target
// branch, labels, reviewers, and state_event close or reopen (a state event by the
// caller).
func (s *Server) updateMR(w http.ResponseWriter, r *http.Request, c *call) {
	var o mrOptions
	if json.NewDecoder(r.Body).Decode(&o) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "400 Bad request"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findMR(w, r, c.p)
	if m == nil {
		return
	}
	if s.level(c.p, c.login) < Developer && !strings.EqualFold(c.login, m.author) {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "403 Forbidden"})
		return
	}
	s.updateLocked(c.p, m, o, c.login)
	writeJSON(w, http.StatusOK, s.mrJSON(c.p, m))
}

func (s *Server) updateLocked(p *project, m *mergeRequest, o mrOptions, login string) {
	if o.Title != nil {
		m.title = *o.Title
	}
	if o.Description != nil {
		m.description = *o.Description
	}
	if o.TargetBranch != nil {
		m.target = *o.TargetBranch
	}
	s.applyLabels(p, m, o)
	s.applyReviewers(m, o)
	m.updated = s.now()
	action := "update"
	switch {
	case o.StateEvent == "close" && m.state == "opened":
		m.state, m.closedAt, m.closedBy, action = "closed", s.now(), login, "close"
		s.addStateEvent(m, login, "closed")
	case o.StateEvent == "reopen" && m.state == "closed":
		m.state, m.closedAt, m.closedBy, action = "opened", time.Time{}, "", "reopen"
		s.addStateEvent(m, login, "reopened")
	}
	s.deliver(p, "Merge Request Hook", s.mrHook(p, m, action, login))
}

// listVersions answers GET .../versions: every push of the merge request, newest
// first, dated by the server.
func (s *Server) listVersions(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	m := s.findMR(w, r, c.p)
	if m == nil {
		s.mu.Unlock()
		return
	}
	var list []any
	for i := len(m.versions) - 1; i >= 0; i-- {
		v := m.versions[i]
		list = append(list, map[string]any{"id": v.id, "head_commit_sha": v.head, "base_commit_sha": v.base, "start_commit_sha": v.start,
			"created_at": stamp(v.created), "merge_request_id": m.id, "state": "collected", "real_size": "1"})
	}
	s.mu.Unlock()
	writePage(w, r, list)
}

// listMRCommits answers GET .../commits: the commits from the base to the head,
// newest first, with the names and emails they claim.
func (s *Server) listMRCommits(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	m := s.findMR(w, r, c.p)
	if m == nil {
		s.mu.Unlock()
		return
	}
	dir, target, sha := c.p.dir, m.target, m.sha
	s.mu.Unlock()
	out, _ := gittest.Output(dir, "log", "--format=%H%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%s", "refs/heads/"+target+".."+sha)
	var list []any
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\x00")
		if len(f) != 8 {
			continue
		}
		list = append(list, map[string]any{"id": f[0], "short_id": f[0][:8], "title": f[7], "message": f[7], "author_name": f[1], "author_email": f[2],
			"authored_date": f[3], "committer_name": f[4], "committer_email": f[5], "committed_date": f[6], "created_at": f[6],
			"parent_ids": []string{}, "web_url": s.URL + "/" + c.p.path + "/-/commit/" + f[0]})
	}
	writePage(w, r, list)
}
