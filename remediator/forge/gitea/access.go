package gitea

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Access reads login's access to the repository now (GET
// /repos/{owner}/{repo}/collaborators/{username}/permission, which the remediator's
// account may ask as the repository's admin): write, admin and owner may push. An
// account Gitea does not know (404) has none.
func (f *Forge) Access(ctx context.Context, login string) (forge.Access, error) {
	perm, resp, err := f.client(ctx).CollaboratorPermission(f.owner, f.repo, login)
	if status(resp) == http.StatusNotFound {
		return forge.Access{Role: "none"}, nil
	}
	if err != nil {
		return forge.Access{}, fmt.Errorf("gitea: permission of %s (the remediator's account must administer the repository): %w", login, err)
	}
	a := forge.Access{Role: string(perm.Permission)}
	switch perm.Permission {
	case sdk.AccessModeWrite, sdk.AccessModeAdmin, sdk.AccessModeOwner:
		a.Write = true
	}
	return a, nil
}

// TeamMember reports whether login is a member of team "org/name": the team found
// by its exact name in the organisation, then its membership.
func (f *Forge) TeamMember(ctx context.Context, team, login string) (bool, error) {
	org, name, ok := strings.Cut(team, "/")
	if !ok {
		return false, fmt.Errorf("gitea: team %q: want org/team", team)
	}
	c := f.client(ctx)
	teams, _, err := c.SearchOrgTeams(org, &sdk.SearchTeamsOptions{Query: name, ListOptions: sdk.ListOptions{PageSize: pageSize}})
	if err != nil {
		return false, fmt.Errorf("gitea: find team %s (the remediator's account must be a member of it): %w", team, err)
	}
	for _, t := range teams {
		if !strings.EqualFold(t.Name, name) {
			continue
		}
		_, resp, err := c.GetTeamMember(t.ID, login)
		if status(resp) == http.StatusNotFound {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("gitea: membership of %s in %s: %w", login, team, err)
		}
		return true, nil
	}
	// Gitea lists a team, and who is in it, only to the team's members, the
	// organisation's owners and site administrators.
	return false, fmt.Errorf("gitea: team %s not found, or not visible to the remediator's account: "+
		"add that account to the team (Gitea shows a team's members only to its members and the organisation's owners)", team)
}
