// Package configdoc renders the remediator's configuration reference
// (docs/remediator-config.md) and its JSON Schema (docs/remediator-config.schema.json)
// from one source: the Go types of remediator/config (their yaml keys and doc
// comments) and config.Default's values. `make generate` writes both; a test fails
// when the checked-in files differ from what the types say.
package configdoc

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Field is one key of the configuration file.
type Field struct {
	Path     string // dotted, "[]" for a list's items: notify.receivers[].name
	Key      string
	Kind     Kind
	Doc      string
	Default  any // nil when the key has none
	Required bool
	Enum     []string
	Fields   []*Field // of an object, or of each object of a list
}

// Kind is a key's value type as the file spells it.
type Kind string

// The kinds a key can be.
const (
	KindString      Kind = "string"
	KindInteger     Kind = "integer"
	KindBoolean     Kind = "boolean"
	KindDuration    Kind = "duration"
	KindStrings     Kind = "list of strings"
	KindStringLists Kind = "map of string lists"
	KindObject      Kind = "object"
	KindObjects     Kind = "list of objects"
)

// required are the keys Load refuses a file without (config.validate); the tests
// check Load agrees, key by key.
var required = []string{"catalog.repository", "infrastructure.repository", "state_dir"}

// enums are the keys with a closed set of values, from the constants the validation
// switches on; the tests check Load accepts each and refuses another.
func enums() map[string][]string {
	return map[string][]string{
		"forge.type":                {config.ForgeLocal, config.ForgeGitHub, config.ForgeGitea, config.ForgeGitLab},
		"notify.receivers[].type":   {config.NotifySlack, config.NotifyTeams, config.NotifyWebhook},
		"notify.receivers[].events": slices.Clone(config.NotifyEvents),
	}
}

var durationType = reflect.TypeOf(runbooks.Duration(0))

// Fields reads the configuration's keys: the types by reflection, the doc comments
// from the package's source in srcDir (remediator/config). Every key must have a
// comment (on the field, or on its struct type): a key nobody documented fails here.
func Fields(srcDir string) ([]*Field, error) {
	docs, err := readDocs(srcDir)
	if err != nil {
		return nil, err
	}
	w := walker{docs: docs, enums: enums()}
	fields := w.object(reflect.TypeOf(config.Config{}), reflect.ValueOf(*config.Default()), "")
	if len(w.errs) > 0 {
		return nil, fmt.Errorf("document the configuration: %s", strings.Join(w.errs, "; "))
	}
	return fields, nil
}

type walker struct {
	docs  sourceDocs
	enums map[string][]string
	errs  []string
}

func (w *walker) object(t reflect.Type, v reflect.Value, prefix string) []*Field {
	var out []*Field
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "" || key == "-" || !sf.IsExported() {
			continue
		}
		f := &Field{Path: prefix + key, Key: key, Enum: w.enums[prefix+key], Required: slices.Contains(required, prefix+key)}
		f.Doc = w.docs.field(t.Name(), sf.Name)
		if f.Doc == "" && sf.Type.Kind() == reflect.Struct {
			f.Doc = w.docs.typeDoc(sf.Type.Name())
		}
		if f.Doc == "" {
			w.errs = append(w.errs, fmt.Sprintf("%s (%s.%s) has no doc comment", f.Path, t.Name(), sf.Name))
		}
		var fv reflect.Value
		if v.IsValid() {
			fv = v.Field(i)
		}
		w.kind(f, sf.Type, fv)
		out = append(out, f)
	}
	return out
}

// kind sets the field's kind, default and children from its Go type and value.
func (w *walker) kind(f *Field, t reflect.Type, v reflect.Value) {
	switch {
	case t == durationType:
		f.Kind = KindDuration
		if v.IsValid() && !v.IsZero() {
			f.Default = v.Interface().(runbooks.Duration).String()
		}
		return
	case t.Kind() == reflect.String:
		f.Kind = KindString
	case t.Kind() == reflect.Int:
		f.Kind = KindInteger
	case t.Kind() == reflect.Bool:
		f.Kind = KindBoolean
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		f.Kind = KindStrings
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.Slice && t.Elem().Elem().Kind() == reflect.String:
		f.Kind = KindStringLists
	case t.Kind() == reflect.Struct:
		f.Kind = KindObject
		f.Fields = w.object(t, v, f.Path+".")
		return
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		f.Kind = KindObjects
		f.Fields = w.object(t.Elem(), reflect.Value{}, f.Path+"[].")
		return
	default:
		w.errs = append(w.errs, fmt.Sprintf("%s: Go type %s has no kind here: teach internal/configdoc", f.Path, t))
		return
	}
	if v.IsValid() && !v.IsZero() {
		f.Default = v.Interface()
	}
}

// sourceDocs are the doc comments of the package's struct types and their fields.
type sourceDocs struct {
	types  map[string]string
	fields map[string]string // "Type.Field"
}

func (d sourceDocs) typeDoc(typeName string) string { return d.types[typeName] }

// field is the field's comment without the Go name it starts with, by Go's
// convention ("TokenEnv names the variable" reads "Names the variable"; "Base is the
// branch" reads "The branch"): the key is in the row already.
func (d sourceDocs) field(typeName, fieldName string) string {
	doc, ok := strings.CutPrefix(d.fields[typeName+"."+fieldName], fieldName+" ")
	if !ok {
		return d.fields[typeName+"."+fieldName]
	}
	for _, verb := range []string{"is ", "are "} {
		doc = strings.TrimPrefix(doc, verb)
	}
	if doc == "" {
		return ""
	}
	return strings.ToUpper(doc[:1]) + doc[1:]
}

func readDocs(dir string) (sourceDocs, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return sourceDocs{}, fmt.Errorf("list config sources: %w", err)
	}
	if len(files) == 0 {
		return sourceDocs{}, fmt.Errorf("list config sources: no Go file in %s", dir)
	}
	fset := token.NewFileSet()
	d := sourceDocs{types: map[string]string{}, fields: map[string]string{}}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			return sourceDocs{}, fmt.Errorf("parse config source: %w", err)
		}
		for _, decl := range file.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				for _, spec := range gd.Specs {
					d.addType(gd, spec.(*ast.TypeSpec))
				}
			}
		}
	}
	return d, nil
}

func (d sourceDocs) addType(gd *ast.GenDecl, ts *ast.TypeSpec) {
	doc := ts.Doc
	if doc == nil {
		doc = gd.Doc
	}
	d.types[ts.Name.Name] = clean(doc.Text())
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return
	}
	for _, f := range st.Fields.List {
		text := f.Doc.Text()
		if text == "" {
			text = f.Comment.Text()
		}
		for _, name := range f.Names {
			d.fields[ts.Name.Name+"."+name.Name] = clean(text)
		}
	}
}

// clean joins a comment's lines into one paragraph.
func clean(s string) string { return strings.Join(strings.Fields(s), " ") }
