package runbooks

import (
	"fmt"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// ParseMatchers parses Alertmanager matchers, one per string, with Alertmanager's own
// parser so that a matcher means here exactly what it means in an Alertmanager route.
func ParseMatchers(in []string) (labels.Matchers, error) {
	out := make(labels.Matchers, 0, len(in))
	for i, s := range in {
		m, err := labels.ParseMatcher(s)
		if err != nil {
			return nil, fmt.Errorf("matcher %d %q: %w", i, s, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// matchLabels reports whether every matcher matches; a missing label reads as "", as
// in Alertmanager.
func matchLabels(ms labels.Matchers, lset map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(lset[m.Name]) {
			return false
		}
	}
	return true
}
