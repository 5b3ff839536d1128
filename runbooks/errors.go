package runbooks

import (
	"fmt"
	"strings"
)

// Error is one problem in a catalog document, located as precisely as is known.
type Error struct {
	File   string // path of the document, when known
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; 0 when unknown
	Field  string // field path such as spec.trigger.matchers[0]
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one or more documents.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns nil for no errors, so that callers can return it as an error.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// fieldErrors collects validation problems by field path.
type fieldErrors struct {
	errs Errors
}

func (f *fieldErrors) add(field, format string, args ...any) {
	f.errs = append(f.errs, &Error{Field: field, Msg: fmt.Sprintf(format, args...)})
}
