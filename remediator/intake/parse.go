package intake

import (
	"bytes"
	"encoding/json"
	"time"
)

// Parse reads either format, telling them apart by Alertmanager's "version" and
// "alerts" fields, for input that may be either (remediator propose --anomaly FILE).
func Parse(body []byte, now time.Time) ([]Anomaly, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(body), &probe); err == nil {
		_, hasVersion := probe["version"]
		_, hasAlerts := probe["alerts"]
		if hasVersion || hasAlerts {
			return ParseAlertmanager(body)
		}
	}
	a, err := ParseGeneric(body, now)
	if err != nil {
		return nil, err
	}
	return []Anomaly{a}, nil
}
