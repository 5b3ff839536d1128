package fakegithub

import (
	"net/http"
	"slices"
)

// Repository roles, GitHub's five base roles from least to most access. An account
// with no role on a repository has none ("" here).
const (
	RoleRead     = "read"
	RoleTriage   = "triage"
	RoleWrite    = "write"
	RoleMaintain = "maintain"
	RoleAdmin    = "admin"
)

var roleOrder = []string{"", RoleRead, RoleTriage, RoleWrite, RoleMaintain, RoleAdmin}

// atLeast says whether role grants at least the access of want.
func atLeast(role, want string) bool {
	return slices.Index(roleOrder, role) >= slices.Index(roleOrder, want)
}

// SetRole gives login a role on every repository of the server (read, triage,
// write, maintain or admin; "" takes every role away). AddToken and AddCollaborator
// make an account a writer unless a role was set; a repository's owner is its admin.
func (s *Server) SetRole(login, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if role != "" && !slices.Contains(roleOrder, role) {
		s.t.Fatalf("fakegithub: unknown role %q", role)
	}
	s.roles[login] = role
	s.collabs[login] = role != ""
}

// grantWrite makes login a writer unless a role was set for it, with s.mu held.
func (s *Server) grantWrite(login string) {
	if _, set := s.roles[login]; !set {
		s.roles[login] = RoleWrite
	}
	s.collabs[login] = s.roles[login] != ""
}

// roleIn is login's role on rp, with s.mu held: the owner (of a fork too) is admin.
func (s *Server) roleIn(rp *repo, login string) string {
	if login == rp.owner {
		return RoleAdmin
	}
	return s.roles[login]
}

// legacyPermission is the permission attribute GitHub derives from a role: its base
// roles admin, write, read and none, maintain mapped to write and triage to read.
func legacyPermission(role string) string {
	switch role {
	case RoleAdmin:
		return "admin"
	case RoleMaintain, RoleWrite:
		return "write"
	case RoleTriage, RoleRead:
		return "read"
	}
	return "none"
}

// collaboratorPermission answers GET /repos/{owner}/{repo}/collaborators/{username}/permission:
// the legacy permission, the role's name and the user with the permissions the role
// grants, as GitHub does (the role is the highest of every grant).
func (s *Server) collaboratorPermission(w http.ResponseWriter, r *http.Request, rp *repo) {
	login := r.PathValue("username")
	_, seen := s.userIDs[login]
	_, hasRole := s.roles[login]
	if !seen && !hasRole && login != rp.owner {
		notFound(w)
		return
	}
	role := s.roleIn(rp, login)
	u := s.user(login)
	name := role
	if name == "" {
		name = "none"
	}
	u["role_name"] = name
	u["permissions"] = map[string]any{
		"pull": atLeast(role, RoleRead), "triage": atLeast(role, RoleTriage), "push": atLeast(role, RoleWrite),
		"maintain": atLeast(role, RoleMaintain), "admin": atLeast(role, RoleAdmin),
	}
	writeJSON(w, http.StatusOK, map[string]any{"permission": legacyPermission(role), "role_name": name, "user": u})
}

// denied answers a request the account's role does not allow and says whether it
// did. GitHub hides what an account may not change: 404, or 403 where the operation
// documents it.
func (s *Server) denied(w http.ResponseWriter, r *http.Request, rp *repo, want string, status int) bool {
	if atLeast(s.roleIn(rp, r.Header.Get("X-Fake-Login")), want) {
		return false
	}
	if status == http.StatusNotFound {
		w.Header().Set(deniedHeader, "1")
		notFound(w)
		return true
	}
	writeJSON(w, status, map[string]any{"message": "Resource not accessible by personal access token",
		"documentation_url": "https://docs.github.com/rest", "status": "403"})
	return true
}

// deniedHeader marks (in the recorded exchange only) a 404 the fake gave because the
// account lacks the role: GitHub answers so on every route, documented or not.
const deniedHeader = "X-Fake-Denied"
