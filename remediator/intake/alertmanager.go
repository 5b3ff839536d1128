package intake

import (
	"fmt"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
)

// SourceAlertmanager names anomalies that came from Alertmanager's webhook.
const SourceAlertmanager = "alertmanager"

// AlertmanagerVersion is the only webhook payload version accepted.
const AlertmanagerVersion = "4"

// ParseAlertmanager reads an Alertmanager webhook payload into one anomaly per alert.
// The payload type is Alertmanager's own (notify/webhook.Message), so the fields are
// exactly those Alertmanager sends; anything else is refused.
func ParseAlertmanager(body []byte) ([]Anomaly, error) {
	return parseAlertmanagerWith(body, decodeStrict)
}

func parseAlertmanagerWith(body []byte, decode func([]byte, any) error) ([]Anomaly, error) {
	msg := webhook.Message{Data: &template.Data{}}
	if err := decode(body, &msg); err != nil {
		return nil, err
	}
	if msg.Version != AlertmanagerVersion {
		return nil, &Error{Field: "version", Msg: fmt.Sprintf("unsupported webhook version %q: want %q", msg.Version, AlertmanagerVersion)}
	}
	if len(msg.Alerts) == 0 {
		return nil, &Error{Field: "alerts", Msg: "no alerts in the payload"}
	}
	if len(msg.Alerts) > MaxAlertsPerPayload {
		return nil, &Error{Field: "alerts", Msg: fmt.Sprintf("%d alerts, more than the %d allowed", len(msg.Alerts), MaxAlertsPerPayload)}
	}
	out := make([]Anomaly, 0, len(msg.Alerts))
	for i, a := range msg.Alerts {
		field := fmt.Sprintf("alerts[%d]", i)
		if a.Status != StatusFiring && a.Status != StatusResolved {
			return nil, &Error{Field: field + ".status", Msg: fmt.Sprintf("%q is neither firing nor resolved", a.Status)}
		}
		if err := checkLabels(field+".labels", a.Labels, true); err != nil {
			return nil, err
		}
		if err := checkLabels(field+".annotations", a.Annotations, false); err != nil {
			return nil, err
		}
		if a.StartsAt.IsZero() {
			return nil, &Error{Field: field + ".startsAt", Msg: "missing"}
		}
		value, err := valueFromAnnotations(field, a.Annotations)
		if err != nil {
			return nil, err
		}
		fp := a.Fingerprint
		if fp == "" {
			fp = Fingerprint(a.Labels)
		}
		out = append(out, Anomaly{
			Labels: copyMap(a.Labels), Annotations: copyMap(a.Annotations), Value: value,
			Status: a.Status, StartsAt: a.StartsAt, EndsAt: a.EndsAt, Source: SourceAlertmanager,
			Fingerprint: fp, GeneratorURL: a.GeneratorURL,
		})
	}
	return out, nil
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
