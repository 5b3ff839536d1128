// Package edits applies a runbook's value changes to files of a work tree of the
// infrastructure repository: HCL with hclwrite, YAML and JSON by replacing only the
// bytes of the edited value. Formatting, comments and key order stay as they were,
// so a proposal's diff is exactly the change. Values are CEL expressions over the
// anomaly and the value found at the path (current).
package edits

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// ErrProtected marks a change aimed at a protected path.
var ErrProtected = errors.New("protected path")

// Edit is the outcome of one change on one file.
type Edit struct {
	// Path is the file as the runbook names it, relative to the repository root.
	Path string
	// File is the file actually written: Path with symlinks resolved inside the
	// repository. Commit this one, or a symlink would become a regular file.
	File    string
	Before  []byte
	After   []byte
	Current any // value found at the path
	New     any // value written
	// Changed is false when the value was already in place.
	Changed bool
}

// Apply computes one change of kind hcl, yaml or json against the work tree at root
// and writes the file when it changes. protected adds to the built-in protected paths.
func Apply(root string, c runbooks.Change, a runbooks.Anomaly, protected []string) (Edit, error) {
	var editor func(src []byte, path string, compute func(any) (any, error)) ([]byte, any, any, error)
	switch c.Kind {
	case runbooks.ChangeHCL:
		editor = editHCL
	case runbooks.ChangeYAML:
		editor = editYAML
	case runbooks.ChangeJSON:
		editor = editJSON
	default:
		return Edit{}, fmt.Errorf("change kind %q is not a file edit", c.Kind)
	}
	rel, abs, err := Resolve(root, c.File, a, protected)
	if err != nil {
		return Edit{}, err
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return Edit{}, err
	}
	written, err := filepath.Rel(absRoot, abs)
	if err != nil {
		return Edit{}, err
	}
	expr, err := runbooks.CompileValue(c.Value)
	if err != nil {
		return Edit{}, fmt.Errorf("%s: value: %w", rel, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Edit{}, fmt.Errorf("%s: no such file in the repository", rel)
		}
		return Edit{}, fmt.Errorf("%s: %w", rel, err)
	}
	if !st.Mode().IsRegular() {
		return Edit{}, fmt.Errorf("%s: not a regular file", rel)
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		return Edit{}, fmt.Errorf("read %s: %w", rel, err)
	}
	compute := func(current any) (any, error) {
		out, err := expr.Eval(runbooks.ExprInput{Labels: a.Labels, Annotations: a.Annotations, Value: a.Value, Current: current})
		if err != nil {
			return nil, err
		}
		val, err := scalar(out.Value())
		if err != nil {
			return nil, err
		}
		return val, sameKind(current, val)
	}
	after, cur, val, err := editor(src, c.Path, compute)
	if err != nil {
		return Edit{}, fmt.Errorf("%s: %s: %w", rel, c.Path, err)
	}
	e := Edit{Path: rel, File: filepath.ToSlash(written), Before: src, After: after, Current: cur, New: val, Changed: !bytes.Equal(src, after)}
	if e.Changed {
		if err := os.WriteFile(abs, after, st.Mode().Perm()); err != nil {
			return Edit{}, fmt.Errorf("write %s: %w", rel, err)
		}
	}
	return e, nil
}

// Target renders a change's file template: the path the change names, before any
// symlink is followed or any check is made.
func Target(fileTemplate string, a runbooks.Anomaly) (string, error) {
	t, err := runbooks.ParsePathTemplate(fileTemplate)
	if err != nil {
		return "", err
	}
	return t.Render(a.Labels, a.Annotations, a.Value)
}

// Resolve renders a change's file template and resolves it inside root. The path must
// stay inside the repository, must not be protected, and must not reach a protected
// path or .git through a symlink.
func Resolve(root, fileTemplate string, a runbooks.Anomaly, protected []string) (rel, abs string, err error) {
	if root, err = filepath.Abs(root); err != nil {
		return "", "", err
	}
	t, err := runbooks.ParsePathTemplate(fileTemplate)
	if err != nil {
		return "", "", err
	}
	rel, err = t.Render(a.Labels, a.Annotations, a.Value)
	if err != nil {
		return "", "", err
	}
	if pat, ok := runbooks.ProtectedMatch(rel, protected); ok {
		return "", "", fmt.Errorf("%s: %w (%s): a remediation can never change it", rel, ErrProtected, pat)
	}
	abs, err = securejoin.SecureJoin(root, filepath.FromSlash(rel))
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", rel, err)
	}
	// Symlinks were resolved inside root; check where the path really leads.
	target, err := filepath.Rel(root, abs)
	if err != nil || target == ".." || strings.HasPrefix(target, ".."+string(filepath.Separator)) {
		return "", "", fmt.Errorf("%s: resolves outside the repository", rel)
	}
	target = filepath.ToSlash(target)
	if err := runbooks.CheckRepoPath(target); err != nil {
		return "", "", fmt.Errorf("%s: resolves to %s: %w", rel, target, err)
	}
	if pat, ok := runbooks.ProtectedMatch(target, protected); ok {
		return "", "", fmt.Errorf("%s: resolves through a symlink to %s: %w (%s)", rel, target, ErrProtected, pat)
	}
	return rel, abs, nil
}

// scalar accepts the values an edit can write.
func scalar(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("the value expression yielded %v: not a number a file can hold (an alert's value annotation may be NaN or Inf)", x)
		}
		return x, nil
	case int64, string, bool:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("the value expression yielded %d: out of range for a number in a file (at most %d)", x, int64(math.MaxInt64))
		}
		return int64(x), nil
	}
	return nil, fmt.Errorf("the value expression yielded %T: it must yield a number, string or bool", v)
}

// sameKind refuses a new value of another kind than the one it replaces: a number
// stays a number, a string a string, a bool a bool.
func sameKind(current, val any) error {
	kind := func(v any) string {
		switch v.(type) {
		case int64, float64:
			return "number"
		case string:
			return "string"
		case bool:
			return "bool"
		}
		return fmt.Sprintf("%T", v)
	}
	if current == nil {
		return nil // a value that was null or absent takes any kind
	}
	if kc, kv := kind(current), kind(val); kc != kv {
		return fmt.Errorf("the value expression yielded the %s %q where the file holds the %s %v: a remediation keeps the kind of the value it edits", kv, fmt.Sprint(val), kc, current)
	}
	return nil
}

// number turns a decoded number into what CEL computes with: int64 when integral.
func number(f float64) any {
	if f == float64(int64(f)) && f >= -1<<53 && f <= 1<<53 {
		return int64(f)
	}
	return f
}
