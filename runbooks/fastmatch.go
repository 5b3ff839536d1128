package runbooks

import (
	"regexp/syntax"
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// fastMatcher is a matcher compiled for routing: the regexes routes use most (a set
// of literals, a literal prefix then .*) are answered without running a regexp;
// every other one asks Alertmanager's matcher itself, so the meaning never changes.
type fastMatcher struct {
	name  string
	match func(string) bool
}

// compileMatchers compiles a runbook's or policy's matchers for routing.
func compileMatchers(ms labels.Matchers) []fastMatcher {
	out := make([]fastMatcher, len(ms))
	for i, m := range ms {
		out[i] = fastMatcher{name: m.Name, match: compileMatcher(m)}
	}
	return out
}

func compileMatcher(m *labels.Matcher) func(string) bool {
	switch m.Type {
	case labels.MatchEqual:
		want := m.Value
		return func(v string) bool { return v == want }
	case labels.MatchNotEqual:
		want := m.Value
		return func(v string) bool { return v != want }
	case labels.MatchRegexp:
		if f := literalRegexp(m.Value); f != nil {
			return f
		}
	case labels.MatchNotRegexp:
		if f := literalRegexp(m.Value); f != nil {
			return func(v string) bool { return !f(v) }
		}
	}
	return m.Matches
}

// literalRegexp answers an Alertmanager regex (anchored at both ends) that is one
// literal, a set of literals, or a literal then .* (which, as in Go's regexp, does
// not cross a newline); nil for any other.
func literalRegexp(expr string) func(string) bool {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	literal := func(r *syntax.Regexp) (string, bool) {
		if r.Op == syntax.OpLiteral && r.Flags&syntax.FoldCase == 0 {
			return string(r.Rune), true
		}
		return "", false
	}
	if lit, ok := literal(re); ok {
		return func(v string) bool { return v == lit }
	}
	if re.Op == syntax.OpEmptyMatch {
		return func(v string) bool { return v == "" }
	}
	if re.Op == syntax.OpAlternate {
		set := map[string]bool{}
		for _, sub := range re.Sub {
			lit, ok := literal(sub)
			if !ok {
				return nil
			}
			set[lit] = true
		}
		return func(v string) bool { return set[v] }
	}
	if re.Op == syntax.OpConcat && len(re.Sub) == 2 {
		lit, ok := literal(re.Sub[0])
		star := re.Sub[1]
		if ok && star.Op == syntax.OpStar && len(star.Sub) == 1 && star.Sub[0].Op == syntax.OpAnyCharNotNL {
			return func(v string) bool { return strings.HasPrefix(v, lit) && !strings.Contains(v[len(lit):], "\n") }
		}
	}
	return nil
}

// matchFast reports whether every compiled matcher matches; a missing label reads
// as "", as in Alertmanager.
func matchFast(ms []fastMatcher, lset map[string]string) bool {
	for _, m := range ms {
		if !m.match(lset[m.name]) {
			return false
		}
	}
	return true
}
