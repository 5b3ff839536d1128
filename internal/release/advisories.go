package release

import (
	"fmt"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// Advisory is a published vulnerability of a module the project depends on (or once
// did), fixed in Fixed: a version below it must never come back into the build.
// govulncheck needs its database over the network; this list is what the project
// knows offline, kept by hand as advisories are read.
type Advisory struct {
	Module, Fixed, ID, Summary string
}

// KnownVulnerable are the advisories the build is checked against.
var KnownVulnerable = []Advisory{
	{"github.com/golang-jwt/jwt/v4", "v4.5.2", "GO-2025-3553 (CVE-2025-30204)", "excessive memory allocation parsing a crafted token header"},
	{"github.com/golang-jwt/jwt/v5", "v5.2.2", "GO-2025-3553 (CVE-2025-30204)", "excessive memory allocation parsing a crafted token header"},
	{"golang.org/x/crypto", "v0.31.0", "GO-2024-3321 (CVE-2024-45337)", "ssh: misuse of PublicKeyCallback may bypass authorization"},
	{"golang.org/x/net", "v0.33.0", "GO-2024-3333 (CVE-2024-45338)", "html: quadratic parsing of some inputs"},
	{"github.com/go-git/go-git/v5", "v5.13.0", "GO-2025-3367 (CVE-2025-21613)", "argument injection via the file transport"},
}

// Finding is a required module at a version an advisory covers.
type Finding struct {
	Module, Version string
	Advisory        Advisory
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s: %s, fixed in %s (%s)", f.Module, f.Version, f.Advisory.ID, f.Advisory.Fixed, f.Advisory.Summary)
}

// Vulnerable reads a go.mod (its require list is the build list of the main module's
// packages, indirect ones included, since Go 1.17's pruned graphs) and reports every
// module an advisory covers.
func Vulnerable(name string, gomod []byte, advisories []Advisory) ([]Finding, error) {
	f, err := modfile.ParseLax(name, gomod, nil)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	var out []Finding
	for _, r := range f.Require {
		for _, a := range advisories {
			if r.Mod.Path == a.Module && semver.Compare(r.Mod.Version, a.Fixed) < 0 {
				out = append(out, Finding{Module: r.Mod.Path, Version: r.Mod.Version, Advisory: a})
			}
		}
	}
	return out, nil
}
