package runbooks

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

// MaxDocumentBytes bounds one catalog file; a larger file is refused before parsing.
const MaxDocumentBytes = 1 << 20

// Decode reads one catalog document strictly: unknown fields, wrong types, duplicate
// keys, a second document in the file or an invalid value are errors naming the file,
// line and field. The result is validated and normalised, so Encode(doc) is canonical.
func Decode(file string, data []byte) (Document, error) {
	root, err := parseSingle(file, data)
	if err != nil {
		return nil, err
	}
	kind, err := header(file, root)
	if err != nil {
		return nil, err
	}
	var doc Document
	switch kind {
	case KindRunbook:
		doc = newRunbook()
	case KindPolicy:
		doc = newPolicy()
	}
	pos := positions{}
	if errs := checkNode(root, reflect.TypeOf(doc).Elem(), "", pos); len(errs) > 0 {
		return nil, withFile(errs, file)
	}
	if err := root.Decode(doc); err != nil {
		// checkNode accepts only what yaml can decode; this is a safety net.
		return nil, withFile(Errors{yamlError(err)}, file)
	}
	normalize(reflect.ValueOf(doc))
	if errs := validateDocument(doc); len(errs) > 0 {
		for _, e := range errs {
			e.Line, e.Column = pos.lookup(e.Field)
		}
		return nil, withFile(errs, file)
	}
	return doc, nil
}

// DecodeRunbook decodes a document that must be a Runbook.
func DecodeRunbook(file string, data []byte) (*Runbook, error) {
	doc, err := Decode(file, data)
	if err != nil {
		return nil, err
	}
	rb, ok := doc.(*Runbook)
	if !ok {
		return nil, Errors{{File: file, Field: "kind", Msg: fmt.Sprintf("expected %s, found %s", KindRunbook, doc.DocumentKind())}}
	}
	return rb, nil
}

// DecodePolicy decodes a document that must be a Policy.
func DecodePolicy(file string, data []byte) (*Policy, error) {
	doc, err := Decode(file, data)
	if err != nil {
		return nil, err
	}
	p, ok := doc.(*Policy)
	if !ok {
		return nil, Errors{{File: file, Field: "kind", Msg: fmt.Sprintf("expected %s, found %s", KindPolicy, doc.DocumentKind())}}
	}
	return p, nil
}

// NewRunbook returns a runbook of that name holding every default, for callers that
// build documents in code.
func NewRunbook(name string) *Runbook {
	rb := newRunbook()
	rb.APIVersion, rb.Kind, rb.Metadata.Name = APIVersion, KindRunbook, name
	return rb
}

// NewPolicy returns a policy of that name holding every default.
func NewPolicy(name string) *Policy {
	p := newPolicy()
	p.APIVersion, p.Kind, p.Metadata.Name = APIVersion, KindPolicy, name
	return p
}

// newRunbook returns a Runbook holding the defaults that absent fields keep.
func newRunbook() *Runbook {
	return &Runbook{Spec: RunbookSpec{
		Enabled:  true,
		Rollback: RollbackRevert,
		Verify:   Verify{Within: Duration(defaultVerifyWithin), AlertResolved: true},
	}}
}

// newPolicy returns a Policy holding the defaults that absent fields keep: approvals
// grow with risk and nothing merges without a human unless the author says so.
func newPolicy() *Policy {
	return &Policy{Spec: PolicySpec{
		Approvals: Approvals{Low: 0, Medium: 1, High: 2, Critical: 2},
		AutoMerge: AutoMerge{MaxRisk: AutoMergeNone},
	}}
}

func parseSingle(file string, data []byte) (*yaml.Node, error) {
	if len(data) > MaxDocumentBytes {
		return nil, Errors{{File: file, Msg: fmt.Sprintf("file is %d bytes, more than the %d allowed", len(data), MaxDocumentBytes)}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Msg: "file is empty: expected a Runbook or Policy document"}}
		}
		return nil, withFile(Errors{yamlError(err)}, file)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, withFile(Errors{yamlError(err)}, file)
		}
		return nil, Errors{{File: file, Line: line, Msg: "more than one YAML document: put each runbook or policy in its own file"}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, Errors{{File: file, Line: root.Line, Column: root.Column, Msg: "expected a mapping with apiVersion, kind, metadata and spec"}}
	}
	return root, nil
}

func header(file string, root *yaml.Node) (string, error) {
	var errs Errors
	apiVersion, avNode := mappingValue(root, "apiVersion")
	switch {
	case avNode == nil:
		errs = append(errs, &Error{Line: root.Line, Column: root.Column, Field: "apiVersion", Msg: fmt.Sprintf("missing: want %s", APIVersion)})
	case apiVersion != APIVersion:
		errs = append(errs, &Error{Line: avNode.Line, Column: avNode.Column, Field: "apiVersion", Msg: fmt.Sprintf("unsupported %q: want %s", apiVersion, APIVersion)})
	}
	kind, kindNode := mappingValue(root, "kind")
	switch {
	case kindNode == nil:
		errs = append(errs, &Error{Line: root.Line, Column: root.Column, Field: "kind", Msg: "missing: want Runbook or Policy"})
	case kind != KindRunbook && kind != KindPolicy:
		errs = append(errs, &Error{Line: kindNode.Line, Column: kindNode.Column, Field: "kind", Msg: fmt.Sprintf("unknown kind %q: want Runbook or Policy", kind)})
	}
	if len(errs) > 0 {
		return "", withFile(errs, file)
	}
	return kind, nil
}

func mappingValue(m *yaml.Node, key string) (string, *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			return v.Value, v
		}
	}
	return "", nil
}

type position struct{ line, column int }

// positions maps field paths to where they were written, so that validation errors,
// which know only the field, can name the line.
type positions map[string]position

// lookup finds the line of the field or of its nearest written ancestor.
func (p positions) lookup(field string) (int, int) {
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

// checkNode walks the YAML against the Go type and reports, with field paths, what
// yaml.v3 would either reject tersely or silently accept (an unknown field).
func checkNode(n *yaml.Node, t reflect.Type, path string, pos positions) Errors {
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
			e := yamlError(err)
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

func checkStruct(n *yaml.Node, t reflect.Type, path string, pos positions) Errors {
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

func yamlError(err error) *Error {
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

func withFile(errs Errors, file string) Errors {
	for _, e := range errs {
		e.File = file
	}
	return errs
}

// normalize turns empty lists into absent ones, so that a decoded document equals the
// decoding of its own encoding.
func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			normalize(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			normalize(v.Field(i))
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := 0; i < v.Len(); i++ {
			normalize(v.Index(i))
		}
	}
}
