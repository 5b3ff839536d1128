package runbooks

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"text/template"
	"text/template/parse"
)

// PathTemplate is a change's file path: a Go text/template over .labels, .annotations
// and .value, in which a missing key is an error rather than an empty string.
type PathTemplate struct {
	src  string
	tmpl *template.Template
	// keys are the label and annotation names the template reads.
	keys map[string][]string
}

// ParsePathTemplate parses and statically checks a path template: only .labels,
// .annotations and .value may be read, and no sub-templates may be defined.
func ParsePathTemplate(src string) (*PathTemplate, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("path template is empty")
	}
	t, err := template.New("file").Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("invalid template: %s", strings.TrimPrefix(err.Error(), "template: file:1: "))
	}
	if len(t.Templates()) > 1 {
		return nil, fmt.Errorf("invalid template: define and block are not allowed in a path")
	}
	pt := &PathTemplate{src: src, tmpl: t, keys: map[string][]string{}}
	if err := pt.check(t.Root); err != nil {
		return nil, err
	}
	return pt, nil
}

func (p *PathTemplate) check(n parse.Node) error {
	switch n := n.(type) {
	case nil:
		return nil
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := p.check(c); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return p.check(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Cmds {
			if err := p.check(c); err != nil {
				return err
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if err := p.check(a); err != nil {
				return err
			}
		}
	case *parse.FieldNode:
		return p.field(n.Ident)
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return p.field(n.Ident[1:])
		}
	case *parse.ChainNode:
		return fmt.Errorf("invalid template: %s: chained access is not allowed in a path", n)
	case *parse.IfNode:
		return p.branch(&n.BranchNode)
	case *parse.RangeNode:
		return p.branch(&n.BranchNode)
	case *parse.WithNode:
		return p.branch(&n.BranchNode)
	case *parse.TemplateNode:
		return fmt.Errorf("invalid template: {{template}} is not allowed in a path")
	}
	return nil
}

func (p *PathTemplate) branch(b *parse.BranchNode) error {
	for _, n := range []parse.Node{b.Pipe, b.List, b.ElseList} {
		if err := p.check(n); err != nil {
			return err
		}
	}
	return nil
}

func (p *PathTemplate) field(ident []string) error {
	switch ident[0] {
	case "labels", "annotations":
		if len(ident) > 1 {
			p.keys[ident[0]] = append(p.keys[ident[0]], ident[1])
		}
		return nil
	case "value":
		return nil
	}
	return fmt.Errorf("invalid template: .%s is not known: a path may use .labels, .annotations and .value", strings.Join(ident, "."))
}

// String returns the source.
func (p *PathTemplate) String() string { return p.src }

// Render executes the template; a missing label is an error, and the result is checked
// to be a clean relative path inside the repository.
func (p *PathTemplate) Render(labels, annotations map[string]string, value float64) (string, error) {
	out, err := p.execute(labels, annotations, value)
	if err != nil {
		return "", err
	}
	if err := CheckRepoPath(out); err != nil {
		return "", fmt.Errorf("render %q: %w", p.src, err)
	}
	return out, nil
}

// execute renders the template without checking the result.
func (p *PathTemplate) execute(labels, annotations map[string]string, value float64) (string, error) {
	if labels == nil {
		labels = map[string]string{}
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	var b bytes.Buffer
	data := map[string]any{"labels": labels, "annotations": annotations, "value": value}
	if err := p.tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render %q: %w", p.src, err)
	}
	return b.String(), nil
}

// sample renders with a placeholder for every key the template reads, to check at
// validation time the parts of the path that do not depend on the anomaly.
func (p *PathTemplate) sample() (string, error) {
	out, err := p.sampleRaw()
	if err != nil {
		return "", err
	}
	if err := CheckRepoPath(out); err != nil {
		return "", err
	}
	return out, nil
}

// sampleRaw is sample without the path check, for patterns.
func (p *PathTemplate) sampleRaw() (string, error) {
	labels, annotations := map[string]string{}, map[string]string{}
	for _, k := range p.keys["labels"] {
		labels[k] = "x"
	}
	for _, k := range p.keys["annotations"] {
		annotations[k] = "x"
	}
	return p.execute(labels, annotations, 0)
}

// CheckRepoPath accepts a clean, relative, slash-separated path that stays inside the
// repository. It is a syntactic check; the remediator also resolves symlinks safely.
func CheckRepoPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("path is empty")
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("path %q contains a NUL byte", p)
	case strings.Contains(p, `\`):
		return fmt.Errorf("path %q contains a backslash: use /", p)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q is absolute: paths are relative to the repository root", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return fmt.Errorf("path %q leaves the repository", p)
		}
		if strings.EqualFold(seg, ".git") {
			return fmt.Errorf("path %q is inside .git", p)
		}
	}
	if path.Clean(p) != p {
		return fmt.Errorf("path %q is not clean: write it as %q", p, path.Clean(p))
	}
	return nil
}
