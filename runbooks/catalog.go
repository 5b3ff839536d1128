package runbooks

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Catalog directories under the catalog's root directory.
const (
	RunbooksDir = "runbooks"
	PoliciesDir = "policies"
)

// Catalog is every runbook and policy of one catalog revision, each sorted by name.
type Catalog struct {
	Runbooks []*Runbook
	Policies []*Policy
}

// NewCatalog sorts the documents and refuses duplicate names.
func NewCatalog(runbooks []*Runbook, policies []*Policy) (*Catalog, error) {
	c := &Catalog{Runbooks: append([]*Runbook(nil), runbooks...), Policies: append([]*Policy(nil), policies...)}
	sort.Slice(c.Runbooks, func(i, j int) bool { return c.Runbooks[i].Metadata.Name < c.Runbooks[j].Metadata.Name })
	sort.Slice(c.Policies, func(i, j int) bool { return c.Policies[i].Metadata.Name < c.Policies[j].Metadata.Name })
	var errs Errors
	for i := 1; i < len(c.Runbooks); i++ {
		if n := c.Runbooks[i].Metadata.Name; n == c.Runbooks[i-1].Metadata.Name {
			errs = append(errs, &Error{Field: "metadata.name", Msg: fmt.Sprintf("runbook %q is defined twice", n)})
		}
	}
	for i := 1; i < len(c.Policies); i++ {
		if n := c.Policies[i].Metadata.Name; n == c.Policies[i-1].Metadata.Name {
			errs = append(errs, &Error{Field: "metadata.name", Msg: fmt.Sprintf("policy %q is defined twice", n)})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// Runbook returns the named runbook, or nil.
func (c *Catalog) Runbook(name string) *Runbook {
	i := sort.Search(len(c.Runbooks), func(i int) bool { return c.Runbooks[i].Metadata.Name >= name })
	if i < len(c.Runbooks) && c.Runbooks[i].Metadata.Name == name {
		return c.Runbooks[i]
	}
	return nil
}

// Policy returns the named policy, or nil.
func (c *Catalog) Policy(name string) *Policy {
	i := sort.Search(len(c.Policies), func(i int) bool { return c.Policies[i].Metadata.Name >= name })
	if i < len(c.Policies) && c.Policies[i].Metadata.Name == name {
		return c.Policies[i]
	}
	return nil
}

// DocumentPath is where a document lives: <dir>/runbooks/<name>.yaml or
// <dir>/policies/<name>.yaml, slash-separated.
func DocumentPath(dir, kind, name string) string {
	sub := RunbooksDir
	if kind == KindPolicy {
		sub = PoliciesDir
	}
	return path.Join(dir, sub, name+".yaml")
}

// LoadFiles builds a catalog from files keyed by slash-separated path. Only files under
// <dir>/runbooks and <dir>/policies are read; every problem in every file is reported.
func LoadFiles(dir string, files map[string][]byte) (*Catalog, error) {
	dir = path.Clean(dir)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var (
		errs     Errors
		runbooks []*Runbook
		policies []*Policy
	)
	for _, name := range names {
		kind, ok := kindForPath(dir, name)
		if !ok {
			if nestedInCatalog(dir, name) {
				errs = append(errs, &Error{File: name, Msg: "catalog files live directly in runbooks/ or policies/, not in subdirectories"})
			}
			continue
		}
		base := path.Base(name)
		if strings.HasPrefix(base, ".") {
			continue // .gitkeep and friends
		}
		if !strings.HasSuffix(base, ".yaml") {
			errs = append(errs, &Error{File: name, Msg: "catalog files must be named <name>.yaml"})
			continue
		}
		doc, err := Decode(name, files[name])
		if err != nil {
			errs = append(errs, asErrors(err, name)...)
			continue
		}
		if doc.DocumentKind() != kind {
			errs = append(errs, &Error{File: name, Field: "kind", Msg: fmt.Sprintf("a %s in the %s directory: move it or fix its kind", doc.DocumentKind(), path.Base(path.Dir(name)))})
			continue
		}
		if want := strings.TrimSuffix(base, ".yaml"); doc.DocumentName() != want {
			errs = append(errs, &Error{File: name, Field: "metadata.name", Msg: fmt.Sprintf("%q does not match the file name: want %q", doc.DocumentName(), want)})
			continue
		}
		switch d := doc.(type) {
		case *Runbook:
			runbooks = append(runbooks, d)
		case *Policy:
			policies = append(policies, d)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return NewCatalog(runbooks, policies)
}

// LoadFS reads a catalog from a file system, such as os.DirFS of a checkout.
func LoadFS(fsys fs.FS, dir string) (*Catalog, error) {
	files := map[string][]byte{}
	for _, sub := range []string{RunbooksDir, PoliciesDir} {
		root := path.Join(dir, sub)
		err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				b, err := fs.ReadFile(fsys, p)
				if err != nil {
					return err
				}
				files[p] = b
			} else if !d.IsDir() {
				return fmt.Errorf("%s: not a regular file", p)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read catalog: %w", err)
		}
	}
	return LoadFiles(dir, files)
}

func kindForPath(dir, name string) (string, bool) {
	d := path.Dir(name)
	switch d {
	case path.Join(dir, RunbooksDir):
		return KindRunbook, true
	case path.Join(dir, PoliciesDir):
		return KindPolicy, true
	}
	return "", false
}

func nestedInCatalog(dir, name string) bool {
	for _, sub := range []string{RunbooksDir, PoliciesDir} {
		if strings.HasPrefix(name, path.Join(dir, sub)+"/") {
			return true
		}
	}
	return false
}

func asErrors(err error, file string) Errors {
	if es := (Errors)(nil); errors.As(err, &es) {
		return es
	}
	return Errors{{File: file, Msg: err.Error()}}
}
