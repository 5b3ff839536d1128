package intake

import (
	"fmt"
	"time"
)

// SourceAlertmanager names anomalies that came from Alertmanager's webhook.
const SourceAlertmanager = "alertmanager"

// AlertmanagerVersion is the only webhook payload version accepted.
const AlertmanagerVersion = "4"

// ParseAlertmanager reads an Alertmanager webhook payload into one anomaly per alert.
// The payload type mirrors Alertmanager's own (webhookMessage), so the fields are
// exactly those Alertmanager sends; anything else is refused.
func ParseAlertmanager(body []byte) ([]Anomaly, error) {
	out, skipped, err := parseAlertmanager(body, decodeStrict)
	if err == nil && len(skipped) > 0 {
		return nil, skipped[0].Err
	}
	return out, err
}

// Skipped is an alert of a notification left out for a problem of its own (an
// unusable value), while the others go on: Alertmanager would otherwise resend the
// whole group forever.
type Skipped struct {
	Index int
	Err   *Error
}

// ParseAlertmanagerSkipping reads a payload like ParseAlertmanager, except that an
// alert whose value is unusable is left out and reported, not the whole payload.
func ParseAlertmanagerSkipping(body []byte) ([]Anomaly, []Skipped, error) {
	return parseAlertmanager(body, decodeStrict)
}

func parseAlertmanager(body []byte, decode func([]byte, any) error) ([]Anomaly, []Skipped, error) {
	msg := webhookMessage{webhookData: &webhookData{}}
	if err := decode(body, &msg); err != nil {
		return nil, nil, err
	}
	if msg.Version != AlertmanagerVersion {
		return nil, nil, &Error{Field: "version", Msg: fmt.Sprintf("unsupported webhook version %q: want %q", msg.Version, AlertmanagerVersion)}
	}
	if len(msg.Alerts) == 0 {
		return nil, nil, &Error{Field: "alerts", Msg: "no alerts in the payload"}
	}
	if len(msg.Alerts) > MaxAlertsPerPayload {
		return nil, nil, &Error{Field: "alerts", Msg: fmt.Sprintf("%d alerts, more than the %d allowed", len(msg.Alerts), MaxAlertsPerPayload)}
	}
	out := make([]Anomaly, 0, len(msg.Alerts))
	var skipped []Skipped
	for i, a := range msg.Alerts {
		field := fmt.Sprintf("alerts[%d]", i)
		if a.Status != StatusFiring && a.Status != StatusResolved {
			return nil, nil, &Error{Field: field + ".status", Msg: fmt.Sprintf("%q is neither firing nor resolved", a.Status)}
		}
		if err := checkLabels(field+".labels", a.Labels, true); err != nil {
			return nil, nil, err
		}
		if err := checkLabels(field+".annotations", a.Annotations, false); err != nil {
			return nil, nil, err
		}
		if a.StartsAt.IsZero() {
			return nil, nil, &Error{Field: field + ".startsAt", Msg: "missing"}
		}
		value, err := valueFromAnnotations(field, a.Annotations)
		if err != nil {
			skipped = append(skipped, Skipped{Index: i, Err: err})
			continue
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
	return out, skipped, nil
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

// webhookMessage is Alertmanager's webhook payload: notify/webhook.Message, with its
// template.Data, field for field and tag for tag (TestWebhookMirrorsAlertmanager holds
// it to Alertmanager's types, so an upgrade that changes them fails the build's
// tests). Importing those types linked Alertmanager's notifier, cluster and silence
// packages into every remediator command; initialising them was half the start of a
// process such as plan-check, which never reads a webhook.
type webhookMessage struct {
	*webhookData

	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

// webhookData is Alertmanager's template.Data.
type webhookData struct {
	Receiver string         `json:"receiver"`
	Status   string         `json:"status"`
	Alerts   []webhookAlert `json:"alerts"`

	NotificationReason string `json:"notification_reason"`

	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	RouteLabels       map[string]string `json:"routeLabels"`

	ExternalURL string `json:"externalURL"`
}

// webhookAlert is Alertmanager's template.Alert.
type webhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}
