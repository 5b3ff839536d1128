package plancheck

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Marker identifies plan-check's comment on a pull request.
const Marker = "<!-- remediation:plan-check -->"

// maxTableRows bounds the change table; the JSON output always has every change.
const maxTableRows = 2000

// Markdown writes the report: the verdict first, then the changes, then each
// violation with its reason.
func (r *Result) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString(Marker + "\n")
	switch {
	case !r.Remediation:
		fmt.Fprintf(&b, "### ✅ plan-check: passed (%s)\n\n%d resource(s) change.\n", r.Note, len(r.Changes))
	case r.Passed():
		fmt.Fprintf(&b, "### ✅ plan-check: passed\n\nRemediation `%s` (runbook **%s**, policy **%s**, risk **%s**): %d resource(s) change, all within the limits.\n",
			cell(r.ID), cell(r.Runbook), cell(r.Policy), cell(r.Risk), len(r.Changes))
	default:
		fmt.Fprintf(&b, "### ❌ plan-check: %d violation(s)\n\nRemediation `%s` (runbook **%s**, policy **%s**, risk **%s**): %d resource(s) change; the plan goes beyond what the runbook and policy allow.\n",
			len(r.Violations), cell(r.ID), cell(r.Runbook), cell(r.Policy), cell(r.Risk), len(r.Changes))
	}
	if r.Remediation && r.Note != "" {
		fmt.Fprintf(&b, "\n> **Note:** %s\n", r.Note)
	}
	if len(r.Changes) > 0 {
		b.WriteString("\n| | address | type | action |\n|---|---|---|---|\n")
		for i, c := range r.Changes {
			if i == maxTableRows {
				fmt.Fprintf(&b, "| | … %d more | | |\n", len(r.Changes)-maxTableRows)
				break
			}
			mark := "✅"
			if !c.OK {
				mark = "❌"
			}
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", mark, cell(c.Address), cell(c.Type), c.Action)
		}
	}
	if len(r.Violations) > 0 {
		b.WriteString("\n#### Violations\n\n")
		for _, v := range r.Violations {
			if v.Address != "" {
				fmt.Fprintf(&b, "- **%s** `%s`: %s\n", v.Rule, cell(v.Address), v.Reason)
			} else {
				fmt.Fprintf(&b, "- **%s**: %s\n", v.Rule, v.Reason)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON writes the result as one JSON document, on one line. It is written by hand:
// a JSON library compiles an encoder for a type on its first use, which in a one-shot
// plan-check process cost more than encoding 10,000 changes (FuzzResultJSON holds it
// to encoding/json).
func (r *Result) JSON(w io.Writer) error {
	outcome := "pass"
	switch {
	case !r.Remediation:
		outcome = "not-a-remediation"
	case !r.Passed():
		outcome = "fail"
	}
	b := make([]byte, 0, 256+100*len(r.Changes)+200*len(r.Violations))
	b = append(b, `{"result":`...)
	b = appendString(b, outcome)
	b = append(b, `,"remediation":`...)
	b = strconv.AppendBool(b, r.Remediation)
	for _, f := range [...]struct{ name, value string }{
		{"id", r.ID}, {"runbook", r.Runbook}, {"policy", r.Policy}, {"risk", r.Risk}, {"terraform_version", r.Terraform},
	} {
		b = appendField(b, f.name, f.value, true)
	}
	b = appendArray(b, "changes", r.Changes, func(b []byte, c Change) []byte {
		b = append(b, `{"address":`...)
		b = appendString(b, c.Address)
		b = appendField(b, "type", c.Type, false)
		b = appendField(b, "action", c.Action, false)
		b = append(b, `,"ok":`...)
		b = strconv.AppendBool(b, c.OK)
		return append(b, '}')
	})
	b = appendArray(b, "violations", r.Violations, func(b []byte, v Violation) []byte {
		b = append(b, `{"rule":`...)
		b = appendString(b, v.Rule)
		b = appendField(b, "address", v.Address, true)
		b = appendField(b, "reason", v.Reason, false)
		return append(b, '}')
	})
	b = appendField(b, "note", r.Note, true)
	b = append(b, "}\n"...)
	_, err := w.Write(b)
	return err
}

// appendArray appends `,"name":[...]` with each item appended by item, or null for
// a nil slice (as encoding/json writes one).
func appendArray[T any](b []byte, name string, items []T, item func([]byte, T) []byte) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	if items == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = item(b, it)
	}
	return append(b, ']')
}

// appendField appends `,"name":"value"`, or nothing for an empty value when
// omitEmpty (the omitempty of the struct tags).
func appendField(b []byte, name, value string, omitEmpty bool) []byte {
	if omitEmpty && value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendString appends s as a JSON string, escaped as encoding/json escapes it:
// quotes, backslashes and control characters, <, > and & (so that the report is safe
// inside HTML), U+2028 and U+2029, and invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		// Ifs, not a tagless switch: see Action.
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		} else {
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// cell keeps a value inside one table cell or code span.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "`", "'")
	return strings.ReplaceAll(s, "|", `\|`)
}
