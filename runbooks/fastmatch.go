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
	shape, ok := readRegexShape(expr)
	switch {
	case !ok:
		return nil
	case len(shape.values) == 1:
		lit := shape.values[0]
		return func(v string) bool { return v == lit }
	case len(shape.values) > 1:
		set := make(map[string]bool, len(shape.values))
		for _, lit := range shape.values {
			set[lit] = true
		}
		return func(v string) bool { return set[v] }
	case shape.prefix != "" && shape.anyTail:
		lit := shape.prefix
		return func(v string) bool { return strings.HasPrefix(v, lit) && !strings.Contains(v[len(lit):], "\n") }
	}
	return nil
}

// regexShape is what a regex is made of, where it is made of literals: exactly one
// of values, or a literal prefix, followed by .* when anyTail.
type regexShape struct {
	values  []string
	prefix  string
	anyTail bool
}

// readRegexShape reads the literal structure of an Alertmanager regex (anchored at
// both ends); ok is false when it has none. Routing reads it twice: to index a
// runbook (regexAnchor) and to match without a regexp (literalRegexp).
func readRegexShape(expr string) (regexShape, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return regexShape{}, false
	}
	re = re.Simplify()
	literal := func(r *syntax.Regexp) (string, bool) {
		if r.Op == syntax.OpLiteral && r.Flags&syntax.FoldCase == 0 {
			return string(r.Rune), true
		}
		return "", false
	}
	if lit, ok := literal(re); ok {
		return regexShape{values: []string{lit}}, true
	}
	switch re.Op {
	case syntax.OpEmptyMatch:
		return regexShape{values: []string{""}}, true
	case syntax.OpAlternate:
		values := make([]string, 0, len(re.Sub))
		for _, sub := range re.Sub {
			lit, ok := literal(sub)
			if !ok {
				return regexShape{}, false
			}
			values = append(values, lit)
		}
		return regexShape{values: values}, true
	case syntax.OpConcat:
		if len(re.Sub) == 0 {
			return regexShape{}, false
		}
		lit, ok := literal(re.Sub[0])
		if !ok {
			return regexShape{}, false
		}
		tail := re.Sub[len(re.Sub)-1]
		anyTail := len(re.Sub) == 2 && tail.Op == syntax.OpStar && len(tail.Sub) == 1 && tail.Sub[0].Op == syntax.OpAnyCharNotNL
		return regexShape{prefix: lit, anyTail: anyTail}, true
	}
	return regexShape{}, false
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
