package github

import "testing"

// Write access is decided from the role's permissions, then its name, then the
// legacy permission: maintain (legacy "write") and admin count, triage (legacy
// "read") does not, and a custom role counts only when its permissions say push.
func TestAccessOf(t *testing.T) {
	perms := func(p ...string) *struct {
		Permissions map[string]bool `json:"permissions"`
	} {
		u := &struct {
			Permissions map[string]bool `json:"permissions"`
		}{Permissions: map[string]bool{}}
		for _, x := range p {
			u.Permissions[x] = true
		}
		return u
	}
	cases := []struct {
		name  string
		pl    permissionLevel
		write bool
		role  string
	}{
		{"read", permissionLevel{Permission: "read", RoleName: "read", User: perms("pull")}, false, "read"},
		{"triage, legacy read", permissionLevel{Permission: "read", RoleName: "triage", User: perms("pull", "triage")}, false, "triage"},
		{"write", permissionLevel{Permission: "write", RoleName: "write", User: perms("pull", "triage", "push")}, true, "write"},
		{"maintain, legacy write", permissionLevel{Permission: "write", RoleName: "maintain", User: perms("pull", "triage", "push", "maintain")}, true, "maintain"},
		{"admin", permissionLevel{Permission: "admin", RoleName: "admin", User: perms("pull", "triage", "push", "maintain", "admin")}, true, "admin"},
		{"custom role built on read", permissionLevel{Permission: "read", RoleName: "auditor", User: perms("pull")}, false, "auditor"},
		{"custom role built on write", permissionLevel{Permission: "write", RoleName: "deployer", User: perms("pull", "push")}, true, "deployer"},
		{"no user: the role's name", permissionLevel{Permission: "write", RoleName: "maintain"}, true, "maintain"},
		{"no user, custom role: not write", permissionLevel{Permission: "write", RoleName: "deployer"}, false, "deployer"},
		{"no user, no role: legacy permission", permissionLevel{Permission: "admin"}, true, "admin"},
		{"none", permissionLevel{Permission: "none", RoleName: "none", User: perms()}, false, "none"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := accessOf(c.pl)
			if a.Write != c.write || a.Role != c.role {
				t.Fatalf("%+v, want write %v role %s", a, c.write, c.role)
			}
		})
	}
}
