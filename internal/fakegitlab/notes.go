package fakegitlab

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

type note struct {
	id               int64
	body, author     string
	system           bool
	created, updated time.Time
}

type stateEvent struct {
	id    int64
	user  string
	state string
	at    time.Time
}

func (s *Server) addStateEvent(m *mergeRequest, login, state string) {
	s.nextID++
	m.events = append(m.events, &stateEvent{id: s.nextID, user: login, state: state, at: s.now()})
}

// CloseAs closes a merge request as login, as a person would in the web interface.
func (s *Server) CloseAs(path string, iid int64, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[path]
	s.updateLocked(p, p.mrs[iid-1], mrOptions{StateEvent: "close"}, login)
}

// Reopen reopens a merge request as login.
func (s *Server) Reopen(path string, iid int64, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[path]
	s.updateLocked(p, p.mrs[iid-1], mrOptions{StateEvent: "reopen"}, login)
}

// Retarget changes a merge request's target branch as login.
func (s *Server) Retarget(path string, iid int64, login, target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[path]
	s.updateLocked(p, p.mrs[iid-1], mrOptions{TargetBranch: &target}, login)
}

// MR is a test's view of one merge request.
type MR struct {
	IID                    int64
	Title, Description     string
	Author, Source, Target string
	SHA, State             string
	Labels, Reviewers      []string
	Notes                  []string
	MergeSHA               string
}

// MergeRequests lists the project's merge requests, oldest first.
func (s *Server) MergeRequests(path string) []MR {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []MR
	for _, m := range s.projects[path].mrs {
		mr := MR{IID: m.iid, Title: m.title, Description: m.description, Author: m.author, Source: m.source, Target: m.target,
			SHA: m.sha, State: m.state, Labels: append([]string(nil), m.labels...), Reviewers: append([]string(nil), m.reviewers...), MergeSHA: m.mergeSHA}
		for _, n := range m.notes {
			mr.Notes = append(mr.Notes, n.body)
		}
		out = append(out, mr)
	}
	return out
}

// Statuses lists the commit statuses on sha as "name=state by author", oldest first.
func (s *Server) Statuses(path, sha string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, st := range s.projects[path].statuses {
		if st.sha == sha {
			out = append(out, st.name+"="+st.state+" by "+st.author)
		}
	}
	return out
}

func (s *Server) noteJSON(p *project, m *mergeRequest, n *note) map[string]any {
	return map[string]any{"id": n.id, "type": nil, "body": n.body, "author": s.userJSON(n.author),
		"created_at": stamp(n.created), "updated_at": stamp(n.updated), "system": n.system, "noteable_id": m.id, //nolint:misspell // GitLab's field names
		"noteable_type": "MergeRequest", "project_id": p.id, "noteable_iid": m.iid, "resolvable": false, "confidential": false, "internal": false} //nolint:misspell // GitLab's field names
}

// listNotes answers GET .../notes, oldest first when sort=asc, else newest first.
func (s *Server) listNotes(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	m := s.findMR(w, r, c.p)
	if m == nil {
		s.mu.Unlock()
		return
	}
	list := []any{}
	for _, n := range m.notes {
		list = append(list, s.noteJSON(c.p, m, n))
	}
	if r.URL.Query().Get("sort") != "asc" {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	s.mu.Unlock()
	writePage(w, r, list)
}

// AddNote writes a note on a merge request as login (a person's comment).
func (s *Server) AddNote(path string, iid int64, login, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[path]
	s.addNote(p, p.mrs[iid-1], login, body)
}

func (s *Server) addNote(p *project, m *mergeRequest, login, body string) *note {
	s.nextID++
	n := &note{id: s.nextID, body: body, author: login, created: s.now(), updated: s.now()}
	m.notes = append(m.notes, n)
	m.updated = s.now() // a note touches its merge request, as GitLab's Note model does
	s.deliver(p, "Note Hook", map[string]any{"object_kind": "note", "event_type": "note", "user": s.hookUser(login),
		"project_id": p.id, "project": s.projectHookJSON(p),
		"object_attributes": map[string]any{"id": n.id, "note": body, "noteable_type": "MergeRequest", "author_id": s.users[strings.ToLower(login)].id, //nolint:misspell // GitLab's field names
			"created_at": stamp(n.created), "updated_at": stamp(n.updated), "project_id": p.id, "system": false, "noteable_id": m.id, //nolint:misspell // GitLab's field names
			"url": s.URL + "/" + p.path + "/-/merge_requests/" + strconv.FormatInt(m.iid, 10) + "#note_" + strconv.FormatInt(n.id, 10)},
		"merge_request": s.mrHookAttributes(p, m, "")})
	return n
}

func (s *Server) createNote(w http.ResponseWriter, r *http.Request, c *call) {
	var o struct {
		Body string `json:"body"`
	}
	if json.NewDecoder(r.Body).Decode(&o) != nil || o.Body == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "400 Bad request - body is missing"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.findMR(w, r, c.p); m != nil {
		writeJSON(w, http.StatusCreated, s.noteJSON(c.p, m, s.addNote(c.p, m, c.login, o.Body)))
	}
}

func (s *Server) findNote(w http.ResponseWriter, r *http.Request, c *call) (*mergeRequest, int, bool) {
	m := s.findMR(w, r, c.p)
	if m == nil {
		return nil, 0, false
	}
	for i, n := range m.notes {
		if strconv.FormatInt(n.id, 10) == r.PathValue("note_id") {
			if !strings.EqualFold(n.author, c.login) { // only its author edits a note
				writeJSON(w, http.StatusForbidden, map[string]any{"message": "403 Forbidden"})
				return nil, 0, false
			}
			return m, i, true
		}
	}
	notFound(w, "Note")
	return nil, 0, false
}

func (s *Server) updateNote(w http.ResponseWriter, r *http.Request, c *call) {
	var o struct {
		Body string `json:"body"`
	}
	_ = json.NewDecoder(r.Body).Decode(&o)
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, i, ok := s.findNote(w, r, c); ok {
		m.notes[i].body, m.notes[i].updated = o.Body, s.now()
		writeJSON(w, http.StatusOK, s.noteJSON(c.p, m, m.notes[i]))
	}
}

func (s *Server) deleteNote(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, i, ok := s.findNote(w, r, c); ok {
		m.notes = append(m.notes[:i], m.notes[i+1:]...)
		w.WriteHeader(http.StatusNoContent)
	}
}

// stateEvents answers GET .../resource_state_events: who closed, reopened and
// merged the merge request, oldest first.
func (s *Server) stateEvents(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	m := s.findMR(w, r, c.p)
	if m == nil {
		s.mu.Unlock()
		return
	}
	list := []any{}
	for _, e := range m.events {
		list = append(list, map[string]any{"id": e.id, "user": s.userJSON(e.user), "created_at": stamp(e.at), "resource_type": "MergeRequest",
			"resource_id": m.id, "state": e.state})
	}
	s.mu.Unlock()
	writePage(w, r, list)
}

// OpenAs opens a merge request as login from source into target, as a person would.
func (s *Server) OpenAs(path, login, source, target, title, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[path]
	sha, err := gittest.Output(p.dir, "rev-parse", "refs/heads/"+source)
	if err != nil {
		s.t.Errorf("open as %s: no branch %s", login, source)
		return
	}
	s.nextID++
	m := &mergeRequest{id: s.nextID, iid: int64(len(p.mrs) + 1), title: title, description: description, author: strings.ToLower(login),
		source: source, target: target, sha: sha, state: "opened", created: s.now(), updated: s.now()}
	p.mrs = append(p.mrs, m)
	s.addVersion(p, m)
}

// Unapprove withdraws login's approval.
func (s *Server) Unapprove(path string, iid int64, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.projects[path].mrs[iid-1]
	m.approvals = slices.DeleteFunc(m.approvals, func(a *approval) bool { return strings.EqualFold(a.username, login) })
	m.updated = s.now() // GitLab notes "unapproved this merge request", which touches it
}

// Debug describes a merge request's versions, approvals and pushes, for a failing test.
func (s *Server) Debug(path string, iid int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[path]
	m := p.mrs[iid-1]
	var b strings.Builder
	for _, v := range m.versions {
		b.WriteString("version " + v.head + " at " + v.created.Format(time.RFC3339Nano) + "\n")
	}
	for _, a := range m.approvals {
		b.WriteString("approval " + a.username + " at " + a.at.Format(time.RFC3339Nano) + "\n")
	}
	for _, e := range p.pushes {
		b.WriteString("push " + e.author + " " + e.ref + " " + e.to + " at " + e.created.Format(time.RFC3339Nano) + "\n")
	}
	return b.String()
}
