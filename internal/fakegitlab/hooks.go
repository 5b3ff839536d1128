package fakegitlab

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
)

// Delivery is one webhook delivery and the answer it got.
type Delivery struct {
	Event  string
	Body   []byte
	Status int
}

// Hook registers a project webhook: every event is POSTed to url with the secret
// token in X-Gitlab-Token, as GitLab sends it.
func (s *Server) Hook(path, url, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projects[path].hookURL, s.projects[path].hookToken = url, token
}

// Deliveries lists the webhook deliveries so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// deliver sends an event to the project's hook, outside the lock, as GitLab does
// from its queue: after the change it tells of.
func (s *Server) deliver(p *project, event string, payload map[string]any) {
	if p.hookURL == "" {
		return
	}
	body, _ := json.Marshal(payload)
	url, token := p.hookURL, p.hookToken
	go func() {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Gitlab-Event", event)
		req.Header.Set("X-Gitlab-Token", token)
		req.Header.Set("User-Agent", "GitLab/17.6.0")
		code := 0
		if resp, err := s.client.Do(req); err == nil {
			code = resp.StatusCode
			_ = resp.Body.Close()
		}
		s.mu.Lock()
		s.deliveries = append(s.deliveries, Delivery{Event: event, Body: body, Status: code})
		s.mu.Unlock()
	}()
}

func (s *Server) projectHookJSON(p *project) map[string]any {
	return map[string]any{"id": p.id, "name": p.path, "path_with_namespace": p.path, "web_url": s.URL + "/" + p.path,
		"git_http_url": s.URL + "/" + p.path + ".git", "default_branch": "main"}
}

func (s *Server) mrHookAttributes(p *project, m *mergeRequest, action string) map[string]any {
	out := map[string]any{"id": m.id, "iid": m.iid, "title": m.title, "description": m.description, "state": m.state,
		"source_branch": m.source, "target_branch": m.target, "source_project_id": p.id, "target_project_id": p.id,
		"author_id": s.users[lower(m.author)].id, "created_at": stamp(m.created), "updated_at": stamp(m.updated),
		"last_commit": map[string]any{"id": m.sha}, "url": s.URL + "/" + p.path + "/-/merge_requests/" + strconv.FormatInt(m.iid, 10),
		"merge_status": "can_be_merged", "detailed_merge_status": detailedStatus(m)}
	if action != "" {
		out["action"] = action
	}
	return out
}

// mrHook is a Merge Request Hook's payload; approvals are such hooks too (action
// approved, unapproved).
func (s *Server) mrHook(p *project, m *mergeRequest, action, login string) map[string]any {
	labels := []any{}
	for _, l := range m.labels {
		labels = append(labels, map[string]any{"id": p.labels[l], "title": l})
	}
	return map[string]any{"object_kind": "merge_request", "event_type": "merge_request", "user": s.hookUser(login),
		"project": s.projectHookJSON(p), "object_attributes": s.mrHookAttributes(p, m, action), "labels": labels,
		"repository": map[string]any{"name": p.path, "url": s.URL + "/" + p.path + ".git"}}
}
