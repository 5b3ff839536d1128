package runbooks

import (
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// ProtectedMatch reports the first protected pattern that p falls under. Defaults are
// always included, and matching ignores case so that ".GitHub/workflows" cannot slip by.
func ProtectedMatch(p string, extra []string) (string, bool) {
	lp := strings.ToLower(p)
	for _, pats := range [][]string{DefaultProtectedPaths(), extra} {
		for _, pat := range pats {
			lpat := strings.ToLower(pat)
			if ok, _ := doublestar.Match(lpat, lp); ok {
				return pat, true
			}
			// A pattern naming a directory protects everything beneath it.
			if ok, _ := doublestar.Match(strings.TrimSuffix(lpat, "/")+"/**", lp); ok {
				return pat, true
			}
		}
	}
	return "", false
}

func validGlob(p string) bool { return doublestar.ValidatePattern(p) }
