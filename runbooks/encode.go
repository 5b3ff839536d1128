package runbooks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Encode writes a document in canonical form: fixed field order, two-space indent,
// canonical durations, absent optional fields. Encoding the same value twice gives the
// same bytes, and Decode(Encode(doc)) equals doc for any decoded doc.
func Encode(doc Document) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode %s %q: %w", doc.DocumentKind(), doc.DocumentName(), err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode %s %q: %w", doc.DocumentKind(), doc.DocumentName(), err)
	}
	return buf.Bytes(), nil
}

// Version identifies a document's content: the first 12 hex digits of the SHA-256 of
// its canonical encoding. Proposals record it (trailer Runbook-Version), so the exact
// runbook behind a remediation can be found again in the catalog's history.
func Version(doc Document) (string, error) {
	b, err := Encode(doc)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6]), nil
}
