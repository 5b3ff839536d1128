package runbooks

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/strictyaml"
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
	pos := strictyaml.Positions{}
	if errs := strictyaml.Check(root, reflect.TypeOf(doc).Elem(), pos); len(errs) > 0 {
		return nil, strictyaml.WithFile(errs, file)
	}
	if err := root.Decode(doc); err != nil {
		// Check accepts only what yaml can decode; this is a safety net.
		return nil, strictyaml.WithFile(Errors{strictyaml.YAMLError(err)}, file)
	}
	normalize(reflect.ValueOf(doc))
	if errs := validateDocument(doc); len(errs) > 0 {
		for _, e := range errs {
			e.Line, e.Column = pos.Lookup(e.Field)
		}
		return nil, strictyaml.WithFile(errs, file)
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
		Verify: Verify{Within: Duration(defaultVerifyWithin), AlertResolved: true,
			Soak: Duration(DefaultVerifySoak), ApplyTimeout: Duration(DefaultApplyTimeout)},
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
	root, err := strictyaml.Parse(file, data, MaxDocumentBytes)
	if err != nil {
		return nil, err
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
		return "", strictyaml.WithFile(errs, file)
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
