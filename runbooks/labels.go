package runbooks

import (
	"fmt"
	"sort"
	"strings"
)

// FormatLabels writes a label set the way Prometheus shows one, sorted by name with
// quoted values: {alertname="HighLatency", service="api"}. Commit messages, the
// status page and replay reports all show anomalies this way.
func FormatLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
