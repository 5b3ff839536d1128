// Package plancheck checks a terraform plan (the JSON of `terraform show -json`, from
// Terraform or OpenTofu) against the limits a remediation's artifact records: the
// runbook's allowed addresses and actions, the change counts, destroys and replaces,
// and the policy's denied resource types.
package plancheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	fastjson "github.com/goccy/go-json"
)

// MaxPlanBytes bounds the plan read (a 10,000-resource plan is a few MiB).
const MaxPlanBytes = 512 << 20

// Plan is what plan-check reads of a plan.
type Plan struct {
	FormatVersion    string           `json:"format_version"`
	TerraformVersion string           `json:"terraform_version"`
	ResourceChanges  []ResourceChange `json:"resource_changes"`
	// PlannedValues is only in a plan (not in a state): its presence is checked.
	PlannedValues json.RawMessage `json:"planned_values"`
}

// ResourceChange is one resource's planned change: only what the checks read, so
// the decoder skips the rest (mode, name, before and after values) without
// allocating for it.
type ResourceChange struct {
	Address string `json:"address"`
	Type    string `json:"type"`
	Change  struct {
		Actions []string `json:"actions"`
	} `json:"change"`
}

// Action names one planned change the way runbooks name them. (Ifs, not a tagless
// switch: Go's coverage has no block for a case expression, so mutation testing
// would count every mutant of these conditions as not covered.)
func (rc ResourceChange) Action() string {
	a := rc.Change.Actions
	if len(a) == 1 {
		return a[0]
	}
	if len(a) == 2 && (a[0] == "delete" && a[1] == "create" || a[0] == "create" && a[1] == "delete") {
		return "replace"
	}
	return strings.Join(a, ",")
}

// ParseError is a plan that cannot be read, with where.
type ParseError struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

var knownActions = map[string]bool{"no-op": true, "create": true, "read": true, "update": true, "delete": true, "forget": true}

// Parse reads the JSON of `terraform show -json PLANFILE`. It refuses what is not a
// plan in format 1.x, and changes without an address, a type or known actions.
func Parse(file string, data []byte) (*Plan, error) {
	return parseAtMost(file, data, MaxPlanBytes)
}

// parseAtMost is Parse with the size limit given: a test of its boundary needs no
// plan of 512 MiB.
func parseAtMost(file string, data []byte, limit int) (*Plan, error) {
	if len(data) > limit {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("larger than %d bytes", limit)}
	}
	var p Plan
	// goccy/go-json decodes a 10,000-resource plan in a third of encoding/json's
	// time; on any error encoding/json, the reference, decodes again: its error has
	// the position, and what it accepts is accepted.
	if err := fastjson.Unmarshal(data, &p); err != nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		var again Plan
		if err := dec.Decode(&again); err != nil {
			return nil, jsonError(file, data, err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, &ParseError{File: file, Msg: "trailing data after the plan"}
		}
		p = again // encoding/json is the reference: what it reads is read
	}
	if p.FormatVersion == "" {
		return nil, &ParseError{File: file, Msg: "format_version: missing: not the output of `terraform show -json` for a plan file"}
	}
	if !strings.HasPrefix(p.FormatVersion, "1.") {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("format_version: %q is not supported (want 1.x)", p.FormatVersion)}
	}
	if p.PlannedValues == nil {
		return nil, &ParseError{File: file, Msg: "planned_values: missing: this is a state, not a plan (run `terraform show -json PLANFILE`)"}
	}
	for i, rc := range p.ResourceChanges {
		if rc.Address != "" && rc.Type != "" && len(rc.Change.Actions) > 0 && knownAll(rc.Change.Actions) {
			continue
		}
		field := fmt.Sprintf("resource_changes[%d]", i) // only for the error: 10,000 of them cost a millisecond
		// Ifs, not a tagless switch: see Action.
		if rc.Address == "" {
			return nil, &ParseError{File: file, Msg: field + ".address: missing"}
		}
		if rc.Type == "" {
			return nil, &ParseError{File: file, Msg: field + ".type: missing (" + rc.Address + ")"}
		}
		if len(rc.Change.Actions) == 0 {
			return nil, &ParseError{File: file, Msg: field + ".change.actions: missing (" + rc.Address + ")"}
		}
		for _, a := range rc.Change.Actions {
			if !knownActions[a] {
				return nil, &ParseError{File: file, Msg: fmt.Sprintf("%s.change.actions: unknown action %q (%s)", field, a, rc.Address)}
			}
		}
	}
	return &p, nil
}

func knownAll(actions []string) bool {
	for _, a := range actions {
		if !knownActions[a] {
			return false
		}
	}
	return true
}

// jsonError turns a decoding error into one with a line and column.
func jsonError(file string, data []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case errors.As(err, &syn):
		off = max(syn.Offset-1, 0) // Offset is just past the offending byte
		msg = "malformed JSON: " + syn.Error()
	case errors.As(err, &typ):
		off = typ.Offset
		msg = fmt.Sprintf("%s: want %s, got %s", typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		off = int64(len(data))
		msg = "malformed JSON: unexpected end of input"
	}
	e := &ParseError{File: file, Msg: msg}
	if off >= 0 {
		e.Line, e.Column = position(data, off)
	}
	return e
}

func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
