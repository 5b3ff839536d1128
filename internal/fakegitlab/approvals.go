package fakegitlab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
)

// Approve records login's approval as GitLab's approve endpoint would, with its
// rules; it returns GitLab's refusal, or nil.
func (s *Server) Approve(path string, iid int64, login string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[path]
	m := p.mrs[iid-1]
	code, msg := s.approveLocked(p, m, login, "")
	if code != http.StatusCreated {
		return fmt.Errorf("%d %s", code, msg)
	}
	return nil
}

// RequestChanges records login's review "request changes" on the merge request, as
// GitLab's merge request page does: login becomes a reviewer whose state is
// requested_changes until they approve.
func (s *Server) RequestChanges(path string, iid int64, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.projects[path].mrs[iid-1]
	if !slices.Contains(m.reviewers, login) {
		m.reviewers = append(m.reviewers, login)
	}
	m.setReviewState(login, "requested_changes")
	m.updated = s.now() // GitLab notes "requested changes", which touches it
}

func (m *mergeRequest) setReviewState(login, state string) {
	if m.reviewState == nil {
		m.reviewState = map[string]string{}
	}
	m.reviewState[login] = state
}

// reviewersOf answers GET .../reviewers: each reviewer and their state.
func (s *Server) reviewersOf(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findMR(w, r, c.p)
	if m == nil {
		return
	}
	out := []any{}
	for _, login := range m.reviewers {
		state := m.reviewState[login]
		if state == "" {
			state = "unreviewed"
		}
		out = append(out, map[string]any{"user": s.userJSON(login), "state": state, "created_at": stamp(m.created)})
	}
	writeJSON(w, http.StatusOK, out)
}

// approveLocked applies GitLab's approval rules: developer access or more, the
// author only when the project allows it, no committer when the project forbids
// it, once per person, and at the sha named when one is.
func (s *Server) approveLocked(p *project, m *mergeRequest, login, sha string) (int, string) {
	switch {
	case m.state != "opened":
		return http.StatusUnauthorized, "401 Unauthorized"
	case sha != "" && sha != m.sha:
		return http.StatusConflict, "SHA does not match HEAD of source branch: " + m.sha
	case s.level(p, login) < Developer:
		return http.StatusUnauthorized, "401 Unauthorized"
	case strings.EqualFold(login, m.author) && !p.settings.AuthorCanApprove:
		return http.StatusUnauthorized, "401 Unauthorized"
	case p.settings.CommittersCannotApprove && s.committed(p, m, login):
		return http.StatusUnauthorized, "401 Unauthorized"
	}
	for _, a := range m.approvals {
		if strings.EqualFold(a.username, login) {
			return http.StatusUnauthorized, "401 Unauthorized"
		}
	}
	m.approvals = append(m.approvals, &approval{username: login, at: s.now()})
	if slices.Contains(m.reviewers, login) {
		m.setReviewState(login, "approved") // an approval ends the reviewer's request for changes
	}
	m.updated = s.now()
	s.deliver(p, "Merge Request Hook", s.mrHook(p, m, "approved", login))
	return http.StatusCreated, ""
}

// committed says whether one of the merge request's commits names login's email
// as author or committer (GitLab matches commits to users by email).
func (s *Server) committed(p *project, m *mergeRequest, login string) bool {
	u := s.users[strings.ToLower(login)]
	out, _ := gittest.Output(p.dir, "log", "--format=%ae%n%ce", "refs/heads/"+m.target+".."+m.sha)
	for _, e := range strings.Split(out, "\n") {
		if u != nil && strings.EqualFold(strings.TrimSpace(e), u.email) {
			return true
		}
	}
	return false
}

// approve answers POST .../approve.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, c *call) {
	var o struct {
		SHA string `json:"sha"`
	}
	_ = json.NewDecoder(r.Body).Decode(&o)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findMR(w, r, c.p)
	if m == nil {
		return
	}
	if code, msg := s.approveLocked(c.p, m, c.login, o.SHA); code != http.StatusCreated {
		writeJSON(w, code, map[string]any{"message": msg})
		return
	}
	writeJSON(w, http.StatusCreated, s.approvalsJSON(c.p, m))
}

// unapprove answers POST .../unapprove.
func (s *Server) unapprove(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findMR(w, r, c.p)
	if m == nil {
		return
	}
	for i, a := range m.approvals {
		if strings.EqualFold(a.username, c.login) {
			m.approvals = append(m.approvals[:i], m.approvals[i+1:]...)
			m.updated = s.now()
			s.deliver(c.p, "Merge Request Hook", s.mrHook(c.p, m, "unapproved", c.login))
			writeJSON(w, http.StatusCreated, s.approvalsJSON(c.p, m))
			return
		}
	}
	notFound(w, "Not found")
}

// approvalsJSON is GET .../approvals: who approved and when, never on which commit.
func (s *Server) approvalsJSON(p *project, m *mergeRequest) map[string]any {
	by := []any{}
	for _, a := range m.approvals {
		by = append(by, map[string]any{"user": s.userJSON(a.username), "approved_at": stamp(a.at)})
	}
	left := max(p.settings.ApprovalsRequired-len(m.approvals), 0)
	return map[string]any{"id": m.id, "iid": m.iid, "project_id": p.id, "title": m.title, "description": m.description,
		"state": m.state, "created_at": stamp(m.created), "updated_at": stamp(m.updated), "merge_status": "can_be_merged",
		"approved": left == 0, "approvals_required": p.settings.ApprovalsRequired, "approvals_left": left,
		"require_password_to_approve": false, "approved_by": by, "suggested_approvers": []any{}, "approvers": []any{},
		"approver_groups": []any{}, "user_has_approved": false, "user_can_approve": true, "approval_rules_left": []any{},
		"has_approval_rules": false, "merge_request_approvers_available": true, "multiple_approval_rules_available": true}
}

func (s *Server) mrApprovals(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.findMR(w, r, c.p); m != nil {
		writeJSON(w, http.StatusOK, s.approvalsJSON(c.p, m))
	}
}

// approvalState answers GET .../approval_state: the project's one rule, and who
// approved under it.
func (s *Server) approvalState(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findMR(w, r, c.p)
	if m == nil {
		return
	}
	by := []any{}
	for _, a := range m.approvals {
		by = append(by, s.userJSON(a.username))
	}
	writeJSON(w, http.StatusOK, map[string]any{"approval_rules_overwritten": false, "rules": []any{map[string]any{
		"id": c.p.id, "name": "All Members", "rule_type": "any_approver", "eligible_approvers": []any{}, "approvals_required": c.p.settings.ApprovalsRequired,
		"users": []any{}, "groups": []any{}, "contains_hidden_groups": false, "approved_by": by, "source_rule": nil,
		"approved": len(m.approvals) >= c.p.settings.ApprovalsRequired, "overridden": false}}})
}

// projectApprovals answers GET /projects/:id/approvals: the settings the gates
// depend on.
func (s *Server) projectApprovals(w http.ResponseWriter, _ *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := c.p.settings
	writeJSON(w, http.StatusOK, map[string]any{"approvers": []any{}, "approver_groups": []any{}, "approvals_before_merge": set.ApprovalsRequired,
		"reset_approvals_on_push": set.ResetOnPush, "disable_overriding_approvers_per_merge_request": false,
		"merge_requests_author_approval": set.AuthorCanApprove, "merge_requests_disable_committers_approval": set.CommittersCannotApprove,
		"require_password_to_approve": false, "selective_code_owner_removals": false})
}

// merge answers PUT .../merge as GitLab does: 405 when the merge request is not
// open or not approved enough, 409 when sha is not its head, 406 when the branches
// conflict; else a merge commit with the message given, squash as asked.
func (s *Server) merge(w http.ResponseWriter, r *http.Request, c *call) {
	var o struct {
		SHA       string `json:"sha"`
		Message   string `json:"merge_commit_message"`
		Squash    *bool  `json:"squash"`
		AutoMerge *bool  `json:"auto_merge"`
		MWPS      *bool  `json:"merge_when_pipeline_succeeds"`
	}
	_ = json.NewDecoder(r.Body).Decode(&o)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findMR(w, r, c.p)
	if m == nil {
		return
	}
	switch {
	case s.level(c.p, c.login) < Developer:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
		return
	case m.state != "opened" || len(m.approvals) < c.p.settings.ApprovalsRequired:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "405 Method Not Allowed"})
		return
	case o.SHA != "" && o.SHA != m.sha:
		writeJSON(w, http.StatusConflict, map[string]any{"message": "SHA does not match HEAD of source branch: " + m.sha})
		return
	}
	if o.Squash != nil {
		m.squash = *o.Squash
	}
	if o.Message == "" {
		o.Message = fmt.Sprintf("Merge branch '%s' into '%s'\n\n%s\n\nSee merge request %s!%d", m.source, m.target, m.title, c.p.path, m.iid)
	}
	sha, refusal := s.mergeByMethod(c.p, m, o.Message, c.login)
	if refusal != "" {
		writeJSON(w, http.StatusNotAcceptable, map[string]any{"message": refusal})
		return
	}
	m.state, m.mergedAt, m.mergedBy, m.mergeSHA, m.mergeMessage, m.updated = "merged", s.now(), c.login, sha, o.Message, s.now()
	s.addStateEvent(m, c.login, "merged")
	s.deliver(c.p, "Merge Request Hook", s.mrHook(c.p, m, "merge", c.login))
	writeJSON(w, http.StatusOK, s.mrJSON(c.p, m))
}

// mergeByMethod merges as the project's merge method says: with "ff" the target
// moves to the head and no merge commit exists (GitLab answers merge_commit_sha
// null), and it and "rebase_merge" refuse a source branch not rebased onto the
// target (406). It returns the merge commit, or GitLab's message refusing the merge.
func (s *Server) mergeByMethod(p *project, m *mergeRequest, message, login string) (sha, refusal string) {
	const conflict = "Branch cannot be merged"
	method := p.mergeMethod()
	target, err := gittest.Output(p.dir, "rev-parse", "refs/heads/"+m.target)
	if err != nil {
		return "", conflict
	}
	if _, err := gittest.Output(p.dir, "merge-base", "--is-ancestor", target, m.sha); err != nil && method != "merge" {
		return "", "Fast-forward merge is not possible. Rebase the source branch onto the target branch"
	}
	if method == "ff" {
		if _, err := gittest.Output(p.dir, "update-ref", "refs/heads/"+m.target, m.sha, target); err != nil {
			return "", conflict
		}
		s.nextID++
		p.pushes = append(p.pushes, &push{id: s.nextID, author: login, ref: m.target, from: target, to: m.sha, created: s.now()})
		return "", ""
	}
	if sha, err = s.mergeCommit(p, m, message, login); err != nil {
		return "", conflict
	}
	return sha, ""
}

// mergeCommit writes the merge commit of head into the target (a squash first when
// asked) and moves the target, refusing a conflict.
func (s *Server) mergeCommit(p *project, m *mergeRequest, message, login string) (string, error) {
	target, err := gittest.Output(p.dir, "rev-parse", "refs/heads/"+m.target)
	if err != nil {
		return "", err
	}
	tree, err := gittest.Output(p.dir, "merge-tree", "--write-tree", target, m.sha)
	if err != nil {
		return "", err
	}
	u := s.users[strings.ToLower(login)]
	env := []string{"-c", "user.name=" + u.name, "-c", "user.email=" + u.email}
	parents := []string{"-p", target, "-p", m.sha}
	if m.squash {
		parents = []string{"-p", target}
	}
	args := append(append(append(env, "commit-tree", strings.Fields(tree)[0]), parents...), "-m", message)
	sha, err := gittest.Output(p.dir, args...)
	if err != nil {
		return "", err
	}
	if _, err := gittest.Output(p.dir, "update-ref", "refs/heads/"+m.target, sha, target); err != nil {
		return "", err
	}
	s.nextID++
	p.pushes = append(p.pushes, &push{id: s.nextID, author: login, ref: m.target, from: target, to: sha, created: s.now()})
	return sha, nil
}

// MergeMessage is the message of a merged merge request's merge commit, and
// whether it was squashed.
func (s *Server) MergeMessage(path string, iid int64) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.projects[path].mrs[iid-1]
	return m.mergeMessage, m.squash
}
