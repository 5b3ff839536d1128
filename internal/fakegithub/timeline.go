package fakegithub

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The events of a pull request's timeline the gates read: who closed and reopened
// it, who dismissed which review, who force-pushed its head branch, and its merge.
// Each event has the fields GitHub's state-change and review-dismissed issue events
// require (spec_test checks them against GitHub's description).

type event struct {
	id        int64
	kind      string // closed, reopened, merged, review_dismissed, head_ref_force_pushed
	actor     string
	commitID  string
	created   time.Time
	dismissed *dismissal
}

// dismissal is a review_dismissed event's dismissed_review.
type dismissal struct {
	state    string // the review's state before, lower case: approved, changes_requested
	reviewID int64
	message  string
	commitID string
}

// addEvent records an event on the pull request, with s.mu held.
func (s *Server) addEvent(p *pull, kind, actor, commitID string, d *dismissal) {
	s.nextID++
	p.events = append(p.events, &event{id: s.nextID, kind: kind, actor: actor, commitID: commitID, created: s.now(), dismissed: d})
}

// Reopen reopens a closed pull request as login would on GitHub.
func (s *Server) Reopen(owner, name string, number int, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.repos[owner+"/"+name].pulls[number-1]
	p.state, p.closed, p.updated = "open", time.Time{}, s.now()
	s.addEvent(p, "reopened", login, "", nil)
}

// timeline answers GET /repos/{owner}/{repo}/issues/{issue_number}/timeline, oldest
// first, paginated.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := s.findPull(w, r, rp, "issue_number")
	if p == nil {
		return
	}
	page, per := paging(r.URL.Query())
	out := []any{}
	for _, e := range pageOf(p.events, page, per) {
		out = append(out, s.event(rp, e))
	}
	s.linkHeader(w, r, page, per, len(p.events))
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) event(rp *repo, e *event) map[string]any {
	full := rp.owner + "/" + rp.name
	m := map[string]any{
		"id": e.id, "node_id": fmt.Sprintf("E_%d", e.id), "url": s.api("/repos/%s/issues/events/%d", full, e.id),
		"actor": s.user(e.actor), "event": e.kind, "commit_id": nil, "commit_url": nil, "created_at": stamp(e.created),
		"performed_via_github_app": nil,
	}
	if e.commitID != "" {
		m["commit_id"], m["commit_url"] = e.commitID, s.api("/repos/%s/commits/%s", full, e.commitID)
	}
	switch e.kind {
	case "closed", "reopened":
		m["state_reason"] = nil
		if e.kind == "reopened" {
			m["state_reason"] = "reopened"
		}
	case "review_dismissed":
		m["dismissed_review"] = map[string]any{"state": e.dismissed.state, "review_id": e.dismissed.reviewID,
			"dismissal_message": e.dismissed.message, "dismissal_commit_id": e.dismissed.commitID}
	}
	return m
}

// dismiss turns a review into DISMISSED and records who did it, with s.mu held.
func (s *Server) dismiss(p *pull, rv *review, actor, message string) {
	d := &dismissal{state: strings.ToLower(rv.state), reviewID: rv.id, message: message, commitID: p.headSHA}
	rv.state = "DISMISSED"
	s.addEvent(p, "review_dismissed", actor, "", d)
}
