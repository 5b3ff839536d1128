package runbooks

import (
	"testing"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// The routing fast paths answer exactly what Alertmanager's matchers answer.
func FuzzFastMatcherAgreesWithAlertmanager(f *testing.F) {
	for _, seed := range [][2]string{
		{"svc-1.*", "svc-12"}, {"svc-1.*", "svc-1\nx"}, {"svc-1.*", "svc-"}, {"prod|staging", "staging"},
		{"prod|staging", "prod|staging"}, {"api", "api"}, {"api", "apis"}, {"", ""}, {"a.*", "a"},
		{"(?i)api", "API"}, {"a.+", "a"}, {"a|b.*", "bc"}, {"x\\.y", "x.y"}, {"x.y", "xzy"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		for _, typ := range []labels.MatchType{labels.MatchRegexp, labels.MatchNotRegexp, labels.MatchEqual, labels.MatchNotEqual} {
			m, err := labels.NewMatcher(typ, "l", pattern)
			if err != nil {
				continue
			}
			if got, want := compileMatcher(m)(value), m.Matches(value); got != want {
				t.Fatalf("%s %q on %q: fast %v, Alertmanager %v", typ, pattern, value, got, want)
			}
		}
	})
}
