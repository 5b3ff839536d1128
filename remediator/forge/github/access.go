package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// permissionLevel is GitHub's answer to the collaborator permission endpoint.
// go-github v60 leaves out the top-level role_name, so the forge reads it itself.
type permissionLevel struct {
	// Permission is the legacy base role: admin, write, read or none. GitHub maps
	// maintain to write and triage to read here, so it is only a fallback.
	Permission string `json:"permission"`
	// RoleName is the role itself: read, triage, write, maintain, admin, or the name
	// of a custom role.
	RoleName string `json:"role_name"`
	User     *struct {
		// Permissions are what the role grants; push is write access, whatever the
		// role is called (a custom role inherits its base role's).
		Permissions map[string]bool `json:"permissions"`
	} `json:"user"`
}

// Access reads login's access to the repository now: GET
// /repos/{owner}/{repo}/collaborators/{username}/permission. An account GitHub does
// not know (404) has none.
func (f *Forge) Access(ctx context.Context, login string) (forge.Access, error) {
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(f.owner), url.PathEscape(f.repo), url.PathEscape(login))
	req, err := f.client.NewRequest("GET", u, nil)
	if err != nil {
		return forge.Access{}, fmt.Errorf("github: permission of %s: %w", login, err)
	}
	var pl permissionLevel
	if _, err := f.client.Do(ctx, req, &pl); err != nil {
		if isNotFound(err) {
			return forge.Access{Role: "none"}, nil
		}
		return forge.Access{}, fmt.Errorf("github: permission of %s: %w", login, err)
	}
	return accessOf(pl), nil
}

// accessOf decides write access from GitHub's answer: the permissions the role
// grants (push, maintain or admin), else the role's name, else the legacy permission
// (write or admin). Triage is not write access, though GitHub's legacy permission
// calls maintain "write" and triage "read".
func accessOf(pl permissionLevel) forge.Access {
	a := forge.Access{Role: pl.RoleName}
	if a.Role == "" {
		a.Role = pl.Permission
	}
	if pl.User != nil && pl.User.Permissions != nil {
		p := pl.User.Permissions
		a.Write = p["push"] || p["maintain"] || p["admin"]
		return a
	}
	switch strings.ToLower(pl.RoleName) {
	case "write", "maintain", "admin":
		a.Write = true
	case "":
		a.Write = pl.Permission == "write" || pl.Permission == "admin"
	}
	return a
}

// isNotFound is GitHub's 404.
func isNotFound(err error) bool {
	var ge *gh.ErrorResponse
	return errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusNotFound
}
