// Package strictyaml decodes YAML strictly into Go structs: an unknown field, a wrong
// type, a duplicate key, an alias or a second document is an error naming the file,
// line, column and field path, and the field paths of valid input are kept so that
// later validation errors can name their line too.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
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

// Parse reads exactly one YAML document and returns its root node.
func Parse(file string, data []byte, maxBytes int) (*yaml.Node, error) {
	if len(data) > maxBytes {
		return nil, Errors{{File: file, Msg: fmt.Sprintf("file is %d bytes, more than the %d allowed", len(data), maxBytes)}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Msg: "file is empty"}}
		}
		return nil, WithFile(Errors{YAMLError(err)}, file)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, WithFile(Errors{YAMLError(err)}, file)
		}
		return nil, Errors{{File: file, Line: line, Msg: "more than one YAML document in the file"}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	return root, nil
}

type position struct{ line, column int }

// Positions maps field paths to where they were written, so that validation errors,
// which know only the field, can name the line.
type Positions map[string]position

// Lookup finds the line of the field or of its nearest written ancestor.
func (p Positions) Lookup(field string) (int, int) {
	for f := field; ; {
		if at, ok := p[f]; ok {
			return at.line, at.column
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			return 0, 0
		}
		f = f[:i]
	}
}

var (
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	// yaml.v3 formats its errors as "yaml: line N: ..." or "line N: ..."; the line is
	// lifted out so that ours read the same as every other error.
	yamlLine = regexp.MustCompile(`^(?:yaml: )?(?:unmarshal errors:\s*)?line (\d+): `)
)

// Check walks the YAML against the Go type of v's pointee and records field positions.
func Check(root *yaml.Node, t reflect.Type, pos Positions) Errors {
	return checkNode(root, t, "", pos)
}

// Decode parses one document and decodes it strictly into v, a pointer to a struct
// that may hold defaults for absent fields.
func Decode(file string, data []byte, v any, maxBytes int) (Positions, error) {
	root, err := Parse(file, data, maxBytes)
	if err != nil {
		return nil, err
	}
	pos := Positions{}
	if errs := Check(root, reflect.TypeOf(v).Elem(), pos); len(errs) > 0 {
		return nil, WithFile(errs, file)
	}
	if err := root.Decode(v); err != nil {
		return nil, WithFile(Errors{YAMLError(err)}, file)
	}
	return pos, nil
}

// checkNode walks the YAML against the Go type and reports, with field paths, what
// yaml.v3 would either reject tersely or silently accept (an unknown field).
func checkNode(n *yaml.Node, t reflect.Type, path string, pos Positions) Errors {
	if n.Kind == yaml.AliasNode {
		return Errors{{Line: n.Line, Column: n.Column, Field: path, Msg: "YAML aliases are not allowed in catalog documents"}}
	}
	if _, ok := pos[path]; !ok {
		pos[path] = position{n.Line, n.Column}
	}
	if isNull(n) {
		return nil
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		v := reflect.New(t)
		if err := v.Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			e := YAMLError(err)
			e.Line, e.Column, e.Field = n.Line, n.Column, path
			return Errors{e}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return checkStruct(n, t, path, pos)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return Errors{{Line: n.Line, Column: n.Column, Field: path, Msg: "expected a list, found " + describe(n)}}
		}
		var errs Errors
		for i, item := range n.Content {
			errs = append(errs, checkNode(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), pos)...)
		}
		return errs
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return Errors{{Line: n.Line, Column: n.Column, Field: path, Msg: "expected a string, found " + describe(n)}}
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			return Errors{{Line: n.Line, Column: n.Column, Field: path, Msg: "expected true or false, found " + describe(n)}}
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			return Errors{{Line: n.Line, Column: n.Column, Field: path, Msg: "expected an integer, found " + describe(n)}}
		}
		if _, err := strconv.ParseInt(n.Value, 0, 32); err != nil {
			return Errors{{Line: n.Line, Column: n.Column, Field: path, Msg: fmt.Sprintf("integer %s is out of range", n.Value)}}
		}
	}
	return nil
}

func checkStruct(n *yaml.Node, t reflect.Type, path string, pos Positions) Errors {
	if n.Kind != yaml.MappingNode {
		return Errors{{Line: n.Line, Column: n.Column, Field: path, Msg: "expected a mapping, found " + describe(n)}}
	}
	fields := map[string]reflect.StructField{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = f
		names = append(names, name)
	}
	sort.Strings(names)
	var errs Errors
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		child := joinPath(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			errs = append(errs, &Error{Line: k.Line, Column: k.Column, Field: path, Msg: "mapping keys must be plain strings"})
			continue
		}
		if first, dup := seen[k.Value]; dup {
			errs = append(errs, &Error{Line: k.Line, Column: k.Column, Field: child, Msg: fmt.Sprintf("duplicate field (first set on line %d)", first)})
			continue
		}
		seen[k.Value] = k.Line
		f, ok := fields[k.Value]
		if !ok {
			errs = append(errs, &Error{Line: k.Line, Column: k.Column, Field: child, Msg: fmt.Sprintf("unknown field (known fields: %s)", strings.Join(names, ", "))})
			continue
		}
		pos[child] = position{k.Line, k.Column}
		errs = append(errs, checkNode(v, f.Type, child, pos)...)
	}
	return errs
}

func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!str":
		return fmt.Sprintf("the string %q", truncate(n.Value, 40))
	case "!!int", "!!float":
		return "the number " + truncate(n.Value, 40)
	case "!!bool":
		return "the boolean " + n.Value
	}
	return fmt.Sprintf("%q", truncate(n.Value, 40))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// YAMLError turns a yaml.v3 error into an Error with its line.
func YAMLError(err error) *Error {
	msg := err.Error()
	// A *yaml.TypeError carries one line per problem; keep the first, it has the line.
	if te := (*yaml.TypeError)(nil); errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	e := &Error{Msg: msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = msg[len(m[0]):]
	}
	return e
}

// WithFile sets the file of every error.
func WithFile(errs Errors, file string) Errors {
	for _, e := range errs {
		e.File = file
	}
	return errs
}
