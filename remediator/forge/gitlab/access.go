package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// roles are GitLab's access levels by name.
var roles = map[gl.AccessLevelValue]string{
	gl.NoPermissions: "none", gl.MinimalAccessPermissions: "minimal", gl.GuestPermissions: "guest", gl.PlannerPermissions: "planner",
	gl.ReporterPermissions: "reporter", gl.DeveloperPermissions: "developer", gl.MaintainerPermissions: "maintainer", gl.OwnerPermissions: "owner",
}

// Access reads login's access to the project now: its membership, direct or
// inherited from the project's groups (GET /projects/:id/members/all/:user_id).
// Developer (30) and more may push and approve; a blocked or unknown user, or one
// who is no member, has none.
func (f *Forge) Access(ctx context.Context, login string) (forge.Access, error) {
	id, ok, err := f.userID(ctx, login)
	if err != nil || !ok {
		return forge.Access{Role: "none"}, err
	}
	m, _, err := f.api.ProjectMembers.GetInheritedProjectMember(f.project, id, gl.WithContext(ctx))
	if status(err) == http.StatusNotFound {
		return forge.Access{Role: "none"}, nil
	}
	if err != nil {
		return forge.Access{}, fmt.Errorf("gitlab: access of %s: %w", login, err)
	}
	role, known := roles[m.AccessLevel]
	if !known {
		role = fmt.Sprintf("level %d", m.AccessLevel)
	}
	if m.State != "" && m.State != "active" {
		return forge.Access{Role: role + " (" + m.State + ")"}, nil
	}
	return forge.Access{Role: role, Write: m.AccessLevel >= gl.DeveloperPermissions}, nil
}

// TeamMember reports whether login is an active member of the group with the full
// path team ("group" or "group/subgroup"), directly or through a parent group.
func (f *Forge) TeamMember(ctx context.Context, team, login string) (bool, error) {
	id, ok, err := f.userID(ctx, login)
	if err != nil || !ok {
		return false, err
	}
	m, _, err := f.api.GroupMembers.GetInheritedGroupMember(team, id, gl.WithContext(ctx))
	if status(err) == http.StatusNotFound {
		if _, _, gerr := f.api.Groups.GetGroup(team, nil, gl.WithContext(ctx)); status(gerr) == http.StatusNotFound {
			return false, fmt.Errorf("gitlab: group %s not found (or not visible to the remediator's user)", url.PathEscape(team))
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("gitlab: membership of %s in %s: %w", login, team, err)
	}
	return strings.EqualFold(m.Username, login) && (m.State == "" || m.State == "active") && m.AccessLevel > gl.NoPermissions, nil
}
