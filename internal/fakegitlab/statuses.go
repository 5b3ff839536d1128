package fakegitlab

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type status struct {
	id                          int64
	sha, ref, name, state, desc string
	author                      string
	pipelineID                  int64
	created                     time.Time
}

type pipeline struct {
	id, iid                     int64
	sha, ref, state, by, source string
	created, updated            time.Time
}

// SetStatus records a commit status (an external one, or a pipeline job's) as
// login: GitLab lets anyone with developer access set one, under any name.
func (s *Server) SetStatus(path, sha, name, state, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setStatusLocked(s.projects[path], sha, name, state, "", login, 0)
}

func (s *Server) setStatusLocked(p *project, sha, name, state, desc, login string, pipelineID int64) *status {
	s.nextID++
	st := &status{id: s.nextID, sha: sha, name: name, state: state, desc: desc, author: login, pipelineID: pipelineID, created: s.now()}
	p.statuses = append(p.statuses, st)
	if pipelineID == 0 {
		s.externalPipeline(p, st)
	}
	return st
}

// externalPipeline is what GitLab does with an external status: it belongs to the
// commit's external pipeline (made with the first one), whose status follows it and
// whose change is delivered as a Pipeline Hook.
func (s *Server) externalPipeline(p *project, st *status) {
	var pl *pipeline
	for _, x := range p.pipelines {
		if x.sha == st.sha && x.source == "external" {
			pl = x
		}
	}
	if pl == nil {
		s.nextID++
		pl = &pipeline{id: s.nextID, iid: int64(len(p.pipelines) + 1), sha: st.sha, ref: st.ref, by: st.author, source: "external", created: s.now()}
		p.pipelines = append(p.pipelines, pl)
	}
	st.pipelineID, pl.state, pl.updated = pl.id, st.state, s.now()
	s.deliver(p, "Pipeline Hook", map[string]any{"object_kind": "pipeline",
		"object_attributes": map[string]any{"id": pl.id, "iid": pl.iid, "ref": pl.ref, "sha": pl.sha, "status": pl.state, "source": "external"},
		"user":              s.hookUser(st.author), "project": s.projectHookJSON(p), "merge_request": nil})
}

// Pipeline runs a pipeline for sha as login, its jobs ending in the states given
// (name -> success, failed, running...): a pipeline and one job status each, by
// login, as GitLab CI reports them. It returns the pipeline's id.
func (s *Server) Pipeline(path, ref, sha, login string, jobs map[string]string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[path]
	s.nextID++
	pl := &pipeline{id: s.nextID, iid: int64(len(p.pipelines) + 1), sha: sha, ref: ref, by: login, source: "push", created: s.now(), updated: s.now(), state: "success"}
	for name, state := range jobs {
		s.setStatusLocked(p, sha, name, state, "", login, pl.id)
		if state != "success" {
			pl.state = state
		}
	}
	p.pipelines = append(p.pipelines, pl)
	s.deliver(p, "Pipeline Hook", map[string]any{"object_kind": "pipeline",
		"object_attributes": map[string]any{"id": pl.id, "iid": pl.iid, "ref": ref, "sha": sha, "status": pl.state, "source": "push"},
		"user":              s.hookUser(login), "project": s.projectHookJSON(p), "merge_request": nil})
	return pl.id
}

func (s *Server) latestPipeline(p *project, sha string) *pipeline {
	for i := len(p.pipelines) - 1; i >= 0; i-- {
		if p.pipelines[i].sha == sha {
			return p.pipelines[i]
		}
	}
	return nil
}

func (s *Server) pipelineJSON(p *project, pl *pipeline) map[string]any {
	return map[string]any{"id": pl.id, "iid": pl.iid, "project_id": p.id, "sha": pl.sha, "ref": pl.ref, "status": pl.state, "source": pl.source,
		"created_at": stamp(pl.created), "updated_at": stamp(pl.updated), "web_url": s.URL + "/" + p.path + "/-/pipelines/" + strconv.FormatInt(pl.id, 10)}
}

// listPipelines answers GET /projects/:id/pipelines (sha, ref filters), newest first.
func (s *Server) listPipelines(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	list := []any{}
	for i := len(c.p.pipelines) - 1; i >= 0; i-- {
		pl := c.p.pipelines[i]
		if sha := r.URL.Query().Get("sha"); sha != "" && sha != pl.sha {
			continue
		}
		list = append(list, s.pipelineJSON(c.p, pl))
	}
	s.mu.Unlock()
	writePage(w, r, list)
}

// authorJSON is a commit status's author.
func (s *Server) authorJSON(username string) any {
	u := s.users[strings.ToLower(username)]
	return map[string]any{"id": u.id, "username": u.username, "name": u.name, "state": "active"}
}

func (s *Server) statusJSON(st *status) map[string]any {
	var desc any
	if st.desc != "" {
		desc = st.desc
	}
	return map[string]any{"id": st.id, "sha": st.sha, "ref": st.ref, "status": st.state, "name": st.name, "target_url": nil,
		"description": desc, "created_at": stamp(st.created), "started_at": nil, "finished_at": stamp(st.created), "allow_failure": false,
		"coverage": nil, "pipeline_id": st.pipelineID, "author": s.authorJSON(st.author)}
}

// listStatuses answers GET .../repository/commits/:sha/statuses: the newest status
// per name, or all of them with all=true, newest first.
func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	all := r.URL.Query().Get("all") == "true"
	seen := map[string]bool{}
	list := []any{}
	for i := len(c.p.statuses) - 1; i >= 0; i-- {
		st := c.p.statuses[i]
		if st.sha != r.PathValue("sha") || (!all && seen[st.name]) {
			continue
		}
		seen[st.name] = true
		list = append(list, s.statusJSON(st))
	}
	s.mu.Unlock()
	writePage(w, r, list)
}

// setStatus answers POST /projects/:id/statuses/:sha: developer access or more.
func (s *Server) setStatus(w http.ResponseWriter, r *http.Request, c *call) {
	var o struct {
		State       string `json:"state"`
		Name        string `json:"name"`
		Context     string `json:"context"`
		Description string `json:"description"`
		Ref         string `json:"ref"`
	}
	_ = json.NewDecoder(r.Body).Decode(&o)
	if o.Name == "" {
		o.Name = o.Context
	}
	if o.Name == "" {
		o.Name = "default"
	}
	switch o.State {
	case "pending", "running", "success", "failed", "canceled", "skipped":
	default:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "state does not have a valid value"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.level(c.p, c.login) < Developer {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "403 Forbidden"})
		return
	}
	st := s.setStatusLocked(c.p, r.PathValue("sha"), o.Name, o.State, o.Description, c.login, 0)
	st.ref = o.Ref
	writeJSON(w, http.StatusCreated, s.statusJSON(st))
}
