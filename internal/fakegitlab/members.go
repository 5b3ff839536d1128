package fakegitlab

import (
	"net/http"
	"strings"
	"time"
)

// currentUser answers GET /user as GitLab answers a user who is not an
// administrator (API_Entities_UserPublic: no is_admin).
func (s *Server) currentUser(w http.ResponseWriter, _ *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[c.login]
	out := s.userJSON(c.login).(map[string]any)
	for k, v := range map[string]any{"bot": u.bot, "email": u.email, "public_email": "", "created_at": "2020-01-01T00:00:00.000Z",
		"bio": "", "location": "", "can_create_group": true, "can_create_project": true, "two_factor_enabled": false, "external": false} {
		out[k] = v
	}
	writeJSON(w, http.StatusOK, out)
}

// listUsers answers GET /users?username=: the one account of that name, or none.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []any{}
	if u := s.users[strings.ToLower(r.URL.Query().Get("username"))]; u != nil {
		list = append(list, s.userJSON(u.username)) // API_Entities_UserBasic: no bot, for a caller who is not an administrator
	}
	writeJSON(w, http.StatusOK, list)
}

// getProject answers GET /projects/:id with the fields the forge reads.
func (s *Server) getProject(w http.ResponseWriter, _ *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := c.p.path[strings.LastIndex(c.p.path, "/")+1:]
	ns := c.p.path[:strings.LastIndex(c.p.path, "/")]
	writeJSON(w, http.StatusOK, map[string]any{"id": c.p.id, "name": name, "path": name, "path_with_namespace": c.p.path,
		"name_with_namespace": strings.ReplaceAll(c.p.path, "/", " / "), "default_branch": "main", "visibility": "private",
		"web_url": s.URL + "/" + c.p.path, "http_url_to_repo": s.URL + "/" + c.p.path + ".git", "ssh_url_to_repo": "git@localhost:" + c.p.path + ".git",
		"namespace":    map[string]any{"id": 1, "name": ns, "path": ns, "kind": "group", "full_path": ns},
		"merge_method": c.p.mergeMethod(), "squash_option": "default_off", "only_allow_merge_if_pipeline_succeeds": false,
		"approvals_before_merge": c.p.settings.ApprovalsRequired, "created_at": "2020-01-01T00:00:00.000Z"})
}

func (p *project) mergeMethod() string {
	if p.settings.MergeMethod == "" {
		return "merge"
	}
	return p.settings.MergeMethod
}

// memberJSON is a member with its access level, as the members API answers.
func (s *Server) memberJSON(u *user, level int) map[string]any {
	out := s.userJSON(u.username).(map[string]any)
	out["access_level"] = level
	out["created_at"] = "2020-01-01T00:00:00.000Z"
	out["expires_at"] = nil
	return out
}

// projectMember answers GET /projects/:id/members/all/:user_id: direct and
// inherited membership, the highest level.
func (s *Server) projectMember(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByID(r.PathValue("user_id"))
	if u == nil || s.level(c.p, u.username) == 0 {
		notFound(w, "Not found")
		return
	}
	writeJSON(w, http.StatusOK, s.memberJSON(u, s.level(c.p, u.username)))
}

// getGroup answers GET /groups/:id (a group by its path).
func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, _ *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := r.PathValue("id")
	if _, ok := s.groups[g]; !ok {
		notFound(w, "Group")
		return
	}
	name := g[strings.LastIndex(g, "/")+1:]
	writeJSON(w, http.StatusOK, map[string]any{"id": 1, "name": name, "path": name, "full_path": g, "full_name": g, "visibility": "private",
		"web_url": s.URL + "/groups/" + g})
}

// groupMember answers GET /groups/:id/members/all/:user_id (a group by its path).
func (s *Server) groupMember(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := r.PathValue("id")
	if _, ok := s.groups[g]; !ok {
		notFound(w, "Group")
		return
	}
	u := s.userByID(r.PathValue("user_id"))
	level := 0
	for path := g; u != nil && path != ""; {
		level = max(level, s.groups[path][strings.ToLower(u.username)])
		i := strings.LastIndex(path, "/")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	if level == 0 {
		notFound(w, "Not found")
		return
	}
	writeJSON(w, http.StatusOK, s.memberJSON(u, level))
}

// listEvents answers GET /projects/:id/events (action=pushed): who pushed what to
// which branch, newest first, dated by the server.
//
// As GitLab's EventsFinder: after and before are dates, and keep the events created
// after the end of the after day and before the start of the before day (UTC);
// newest first unless sort=asc. A push that created its branch is "pushed new"
// (push_data.action created, commit_from null), one that deleted it "deleted"
// (removed, commit_to null).
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	after, errA := time.Parse(time.DateOnly, q.Get("after"))
	before, errB := time.Parse(time.DateOnly, q.Get("before"))
	s.mu.Lock()
	list := []any{}
	for i := range c.p.pushes {
		e := c.p.pushes[len(c.p.pushes)-1-i]
		if q.Get("sort") == "asc" {
			e = c.p.pushes[i]
		}
		if a := q.Get("action"); a != "" && a != "pushed" ||
			errA == nil && !e.created.After(after.AddDate(0, 0, 1).Add(-time.Nanosecond)) || errB == nil && !e.created.Before(before) {
			continue
		}
		list = append(list, s.pushEventJSON(c.p, e))
	}
	s.mu.Unlock()
	writePage(w, r, list)
}

func (s *Server) pushEventJSON(p *project, e *push) map[string]any {
	u := s.users[strings.ToLower(e.author)]
	var from, to any = e.from, e.to
	action, name := "pushed", "pushed to"
	switch {
	case e.from == "":
		from, action, name = nil, "created", "pushed new"
	case e.to == "":
		to, action, name = nil, "removed", "deleted"
	}
	return map[string]any{"id": e.id, "project_id": p.id, "action_name": name, "target_id": nil, "target_iid": nil,
		"target_type": nil, "target_title": nil, "author_id": u.id, "author_username": u.username, "author": s.userJSON(u.username),
		"created_at": stamp(e.created),
		"push_data": map[string]any{"commit_count": 1, "action": action, "ref_type": "branch", "commit_from": from, "commit_to": to,
			"ref": e.ref, "commit_title": ""}}
}
