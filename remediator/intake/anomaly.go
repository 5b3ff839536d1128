// Package intake reads anomalies from the outside world: Alertmanager's webhook
// (version 4, exactly as Alertmanager sends it) and the generic JSON format. Decoding
// is strict: unknown fields, wrong types and bad values are errors that name the field
// and position, and nothing is accepted half-read.
package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	fastjson "github.com/goccy/go-json"
)

// Status of an anomaly.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Anomaly is one detected anomaly, whatever sent it.
type Anomaly struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Value       float64           `json:"value"`
	Status      string            `json:"status"`
	StartsAt    time.Time         `json:"starts_at"`
	EndsAt      time.Time         `json:"ends_at,omitempty"`
	Source      string            `json:"source"`
	// Fingerprint identifies the label set: Alertmanager's own when it sent one.
	Fingerprint  string `json:"fingerprint"`
	GeneratorURL string `json:"generator_url,omitempty"`
	// TraceParent continues the anomaly's trace (W3C traceparent) once it is queued.
	TraceParent string `json:"trace_parent,omitempty"`
}

// Limits on one payload, beyond the HTTP body limit.
const (
	MaxAlertsPerPayload = 1000
	MaxLabels           = 100
	MaxLabelBytes       = 4096
)

// Error is a payload problem, located by field and, when known, line and column.
type Error struct {
	Field  string
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and trailing data.
func decodeStrict(body []byte, v any) error {
	// The fast path (goccy/go-json, strict the same way) decodes what is well formed;
	// anything it refuses, or a body that is not valid UTF-8 (which encoding/json
	// repairs), is decoded again by encoding/json for its exact error and behaviour.
	if utf8.Valid(body) {
		fast := fastjson.NewDecoder(bytes.NewReader(body))
		fast.DisallowUnknownFields()
		if err := fast.Decode(v); err == nil {
			rest, _ := io.ReadAll(fast.Buffered())
			if len(bytes.TrimSpace(rest)) == 0 {
				return nil
			}
		}
	}
	return decodeStrictReference(body, v)
}

// decodeStrictReference is encoding/json, strict: the reference the fast path is
// fuzzed against, and the source of every error message.
func decodeStrictReference(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(body, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := position(body, int(dec.InputOffset()))
		return &Error{Line: line, Column: col, Msg: "unexpected data after the JSON document"}
	}
	return nil
}

func jsonError(body []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tim *time.ParseError
	switch {
	case errors.As(err, &tim):
		return &Error{Msg: fmt.Sprintf("invalid time %q: want RFC 3339, such as 2026-11-24T10:00:00Z", tim.Value)}
	case errors.As(err, &syn):
		line, col := position(body, int(syn.Offset))
		return &Error{Line: line, Column: col, Msg: "malformed JSON: " + syn.Error()}
	case errors.As(err, &typ):
		line, col := position(body, int(typ.Offset))
		field := typ.Field
		return &Error{Field: field, Line: line, Column: col, Msg: fmt.Sprintf("expected %s, found a JSON %s", typ.Type, typ.Value)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Msg: "malformed JSON: the body is empty or cut short"}
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return &Error{Field: strings.Trim(f, `"`), Msg: "unknown field"}
	}
	return &Error{Msg: strings.TrimPrefix(msg, "json: ")}
}

// position turns a byte offset into a 1-based line and column.
func position(body []byte, offset int) (int, int) {
	if offset > len(body) {
		offset = len(body)
	}
	before := body[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := offset - bytes.LastIndexByte(before, '\n')
	return line, col
}

// checkLabels validates a label or annotation map.
func checkLabels(field string, m map[string]string, required bool) error {
	if required && len(m) == 0 {
		return &Error{Field: field, Msg: "at least one label is required"}
	}
	if len(m) > MaxLabels {
		return &Error{Field: field, Msg: fmt.Sprintf("%d entries, more than the %d allowed", len(m), MaxLabels)}
	}
	for k, v := range m {
		if k == "" {
			return &Error{Field: field, Msg: "empty name"}
		}
		if len(k)+len(v) > MaxLabelBytes {
			return &Error{Field: field + "." + k, Msg: "too long"}
		}
	}
	return nil
}

// Fingerprint hashes a label set, order-independent.
func Fingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// valueFromAnnotations reads an alert's value from its "value" annotation, the usual
// way alert rules expose it ({{ $value }}); 0 when absent.
func valueFromAnnotations(field string, ann map[string]string) (float64, *Error) {
	s, ok := ann["value"]
	if !ok || strings.TrimSpace(s) == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, &Error{Field: field + ".annotations.value", Msg: fmt.Sprintf("%q is not a number", s)}
	}
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, &Error{Field: field + ".annotations.value", Msg: fmt.Sprintf("%q is not a finite number: no runbook can compute with it", s)}
	}
	return v, nil
}
