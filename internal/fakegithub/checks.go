package fakegithub

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

type checkRun struct {
	id                            int64
	sha, name, status, conclusion string
	started, completed            time.Time
	// app is the slug of the GitHub App that made the run: only an App can.
	app string
}

// CheckRun records a check run on commit sha, as the CI app "ci" would report it:
// status queued, in_progress or completed; conclusion (success, failure, neutral, ...)
// only when completed. A later run of the same name supersedes the earlier one.
func (s *Server) CheckRun(owner, name, sha, check, status, conclusion string) {
	s.CheckRunBy("ci", owner, name, sha, check, status, conclusion)
}

// CheckRunBy is CheckRun made by the App with the slug app.
func (s *Server) CheckRunBy(app, owner, name, sha, check, status, conclusion string) {
	s.mu.Lock()
	rp := s.repos[owner+"/"+name]
	s.nextID++
	now := s.now()
	cr := &checkRun{id: s.nextID, sha: sha, name: check, status: status, conclusion: conclusion, started: now, app: app}
	if status == "completed" {
		cr.completed = now
	}
	rp.checkRuns = append(rp.checkRuns, cr)
	payload := map[string]any{"action": map[bool]string{true: "completed", false: "created"}[status == "completed"],
		"check_run": s.checkRun(rp, cr), "repository": s.repository(rp), "sender": s.user(app + "[bot]")}
	s.deliver("check_run", payload)
	s.mu.Unlock()
}

// AddTeamMember makes login an active member of the team org/slug.
func (s *Server) AddTeamMember(org, slug, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.teams[org+"/"+slug] = append(s.teams[org+"/"+slug], login)
}

// AddTeam creates the team org/slug, with no members yet: a team review can be
// requested only from a team that exists.
func (s *Server) AddTeam(org, slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.teams[org+"/"+slug]; !ok {
		s.teams[org+"/"+slug] = []string{}
	}
}

// resolveRef turns a branch name or commit SHA into the commit SHA, or "".
func resolveRef(rp *repo, ref string) string {
	sha, err := gittest.Output(rp.dir, "rev-parse", "--verify", "-q", ref+"^{commit}")
	if err != nil {
		return ""
	}
	return sha
}

// combinedStatus answers with the newest status per context on the commit; the state
// is failure if any is failure or error, pending if any is pending or none exists.
func (s *Server) combinedStatus(w http.ResponseWriter, r *http.Request, rp *repo) {
	sha := resolveRef(rp, r.PathValue("ref"))
	if sha == "" {
		notFound(w)
		return
	}
	latest := map[string]*status{}
	var order []string
	for _, st := range rp.statuses {
		if st.sha != sha {
			continue
		}
		if latest[st.context] == nil {
			order = append(order, st.context)
		}
		latest[st.context] = st
	}
	state := "success"
	if len(order) == 0 {
		state = "pending"
	}
	statuses := []any{}
	for _, c := range order {
		st := latest[c]
		switch st.state {
		case "failure", "error":
			state = "failure"
		case "pending":
			if state != "failure" {
				state = "pending"
			}
		}
		obj := s.status(rp, st)
		delete(obj, "creator")
		statuses = append(statuses, obj)
	}
	page, per := paging(r.URL.Query())
	full := rp.owner + "/" + rp.name
	writeJSON(w, http.StatusOK, map[string]any{
		"state": state, "statuses": pageOf(statuses, page, per), "sha": sha, "total_count": len(statuses),
		"repository": s.repository(rp), "commit_url": s.api("/repos/%s/commits/%s", full, sha),
		"url": s.api("/repos/%s/commits/%s/status", full, sha),
	})
}

// listCheckRuns answers with the commit's check runs, only the newest per name
// unless filter=all, optionally only those named check_name.
func (s *Server) listCheckRuns(w http.ResponseWriter, r *http.Request, rp *repo) {
	sha := resolveRef(rp, r.PathValue("ref"))
	if sha == "" {
		notFound(w)
		return
	}
	q := r.URL.Query()
	all := q.Get("filter") == "all"
	var runs []*checkRun
	for i := len(rp.checkRuns) - 1; i >= 0; i-- {
		cr := rp.checkRuns[i]
		if cr.sha != sha || (q.Get("check_name") != "" && cr.name != q.Get("check_name")) {
			continue
		}
		if !all && containsRun(runs, cr.name) {
			continue
		}
		runs = append(runs, cr)
	}
	page, per := paging(q)
	out := []any{}
	for _, cr := range pageOf(runs, page, per) {
		out = append(out, s.checkRun(rp, cr))
	}
	s.linkHeader(w, r, page, per, len(runs))
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": out})
}

func containsRun(runs []*checkRun, name string) bool {
	for _, r := range runs {
		if r.name == name {
			return true
		}
	}
	return false
}

func (s *Server) checkRun(rp *repo, cr *checkRun) map[string]any {
	full := rp.owner + "/" + rp.name
	var conclusion any
	if cr.conclusion != "" {
		conclusion = cr.conclusion
	}
	return map[string]any{
		"id": cr.id, "node_id": fmt.Sprintf("CR_%d", cr.id), "head_sha": cr.sha, "name": cr.name, "external_id": "",
		"url": s.api("/repos/%s/check-runs/%d", full, cr.id), "html_url": fmt.Sprintf("%s/%s/runs/%d", s.URL, full, cr.id),
		"details_url": s.URL + "/ci/" + fmt.Sprint(cr.id), "status": cr.status, "conclusion": conclusion, "started_at": nullStamp(cr.started),
		"completed_at": nullStamp(cr.completed), "output": map[string]any{"title": nil, "summary": nil, "text": nil,
			"annotations_count": 0, "annotations_url": s.api("/repos/%s/check-runs/%d/annotations", full, cr.id)},
		"check_suite": map[string]any{"id": cr.id + 1}, "app": s.app(cr.app), "pull_requests": []any{},
	}
}

// app is a GitHub App as the API shows it (the integration object).
func (s *Server) app(slug string) map[string]any {
	id := s.userID(slug + "[app]")
	return map[string]any{
		"id": id, "slug": slug, "node_id": fmt.Sprintf("A_%d", id), "owner": s.user("acme"), "name": slug,
		"description": nil, "external_url": s.URL + "/apps/" + slug, "html_url": s.URL + "/apps/" + slug,
		"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
		"permissions": map[string]any{"checks": "write", "statuses": "write"}, "events": []any{"check_run"},
	}
}

// listStatuses answers with every status of the commit, newest first, each with its
// creator (which the combined status leaves out).
func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request, rp *repo) {
	sha := resolveRef(rp, r.PathValue("ref"))
	if sha == "" {
		notFound(w)
		return
	}
	var mine []*status
	for i := len(rp.statuses) - 1; i >= 0; i-- {
		if rp.statuses[i].sha == sha {
			mine = append(mine, rp.statuses[i])
		}
	}
	page, per := paging(r.URL.Query())
	out := []any{}
	for _, st := range pageOf(mine, page, per) {
		out = append(out, s.status(rp, st))
	}
	s.linkHeader(w, r, page, per, len(mine))
	writeJSON(w, http.StatusOK, out)
}

// teamMembership answers whether a user is in a team: 200 with the membership, or
// 404 when they are not (GitHub's answer for both "no such team" and "not a member").
func (s *Server) teamMembership(w http.ResponseWriter, r *http.Request) {
	org, slug, user := r.PathValue("org"), r.PathValue("team_slug"), r.PathValue("username")
	for _, m := range s.teams[org+"/"+slug] {
		if strings.EqualFold(m, user) {
			writeJSON(w, http.StatusOK, map[string]any{"url": s.api("/teams/%s/memberships/%s", slug, m), "role": "member", "state": "active"})
			return
		}
	}
	notFound(w)
}
