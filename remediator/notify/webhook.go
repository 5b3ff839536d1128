package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
)

// Headers of the generic webhook, after GitHub's webhooks.
const (
	HeaderSignature = "X-Remediator-Signature-256"
	HeaderEvent     = "X-Remediator-Event"
	// HeaderDelivery is the idempotency key: a receiver that sees it twice (a
	// delivery whose answer was lost) drops the second.
	HeaderDelivery = "X-Remediator-Delivery"
)

// Webhook posts the event as JSON, signed like GitHub's X-Hub-Signature-256:
// "sha256=" and the hex HMAC-SHA256 of the body under the shared secret.
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client
}

// Notify posts the event.
func (w *Webhook) Notify(ctx context.Context, e *Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("render webhook body: %w", err)
	}
	h := http.Header{}
	h.Set(HeaderSignature, Sign(w.Secret, body))
	h.Set(HeaderEvent, string(e.Kind))
	h.Set(HeaderDelivery, e.ID)
	return post(ctx, w.Client, w.URL, body, h)
}

// Sign is the signature header's value for a body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ValidSignature checks a signature header in constant time: for receivers written
// in Go, and the tests.
func ValidSignature(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(header), []byte(Sign(secret, body)))
}
