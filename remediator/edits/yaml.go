package edits

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// editYAML replaces the bytes of one scalar in a YAML document. yaml.v3 finds the
// node and its position; only the scalar's own text is rewritten, so comments,
// indentation, anchors and quoting elsewhere stay exactly as they were.
func editYAML(src []byte, path string, compute func(any) (any, error)) ([]byte, any, any, error) {
	steps, err := runbooks.SplitValuePath(path)
	if err != nil {
		return nil, nil, nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, nil, nil, fmt.Errorf("parse YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil, nil, fmt.Errorf("the file is empty")
	}
	node, err := findYAML(doc.Content[0], steps)
	if err != nil {
		return nil, nil, nil, err
	}
	if node.Kind != yaml.ScalarNode {
		return nil, nil, nil, fmt.Errorf("the value at the path is not a number, string or bool")
	}
	var current any
	if err := node.Decode(&current); err != nil {
		return nil, nil, nil, fmt.Errorf("read current value: %w", err)
	}
	switch c := current.(type) {
	case int:
		current = int64(c)
	case float64:
		current = number(c)
	}
	val, err := compute(current)
	if err != nil {
		return nil, nil, nil, err
	}
	if sameValue(current, val) {
		return src, current, val, nil
	}
	start, end, err := scalarSpan(src, node)
	if err != nil {
		return nil, nil, nil, err
	}
	text, err := yamlScalar(val, node.Style)
	if err != nil {
		return nil, nil, nil, err
	}
	out := make([]byte, 0, len(src)+len(text))
	out = append(append(append(out, src[:start]...), text...), src[end:]...)
	// Prove the edit: the new document parses and holds the new value at the path.
	var check yaml.Node
	if err := yaml.Unmarshal(out, &check); err != nil {
		return nil, nil, nil, fmt.Errorf("edit would break the YAML: %w", err)
	}
	if n, err := findYAML(check.Content[0], steps); err != nil || n.Value != textValue(val) {
		return nil, nil, nil, fmt.Errorf("edit did not land on the path as expected")
	}
	return out, current, val, nil
}

func findYAML(n *yaml.Node, steps []runbooks.PathStep) (*yaml.Node, error) {
	for _, s := range steps {
		if n.Kind == yaml.AliasNode {
			return nil, fmt.Errorf("%s: the path goes through an alias; edit the anchored value instead", s)
		}
		switch {
		case s.IsIndex:
			if n.Kind != yaml.SequenceNode {
				return nil, fmt.Errorf("%s: not a list", s)
			}
			if s.Index >= len(n.Content) {
				return nil, fmt.Errorf("no item %s: the list has %d", s, len(n.Content))
			}
			n = n.Content[s.Index]
		default:
			if n.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("%s: not a mapping", s)
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s.Key {
					next = n.Content[i+1]
					break
				}
			}
			if next == nil {
				return nil, fmt.Errorf("no key %q", s.Key)
			}
			n = next
		}
	}
	return n, nil
}

// scalarSpan finds the bytes of a single-line scalar from its line and column.
func scalarSpan(src []byte, n *yaml.Node) (int, int, error) {
	lineStart := 0
	for line := 1; line < n.Line; line++ {
		i := bytes.IndexByte(src[lineStart:], '\n')
		if i < 0 {
			return 0, 0, fmt.Errorf("value position out of range")
		}
		lineStart += i + 1
	}
	lineEnd := len(src)
	if i := bytes.IndexByte(src[lineStart:], '\n'); i >= 0 {
		lineEnd = lineStart + i
	}
	line := src[lineStart:lineEnd]
	// Columns count characters; turn them into a byte offset.
	start := 0
	for col := 1; col < n.Column && start < len(line); col++ {
		_, size := utf8.DecodeRune(line[start:])
		start += size
	}
	rest := line[start:]
	var length int
	switch n.Style {
	case yaml.DoubleQuotedStyle:
		length = quotedLen(rest, '"')
	case yaml.SingleQuotedStyle:
		length = quotedLen(rest, '\'')
	case 0, yaml.TaggedStyle:
		// A plain scalar ends at a comment or the end of the line.
		length = len(rest)
		if i := bytes.Index(rest, []byte(" #")); i >= 0 {
			length = i
		}
		length = len(bytes.TrimRight(rest[:length], " \t\r"))
		if string(rest[:length]) != n.Value {
			return 0, 0, fmt.Errorf("multi-line or flow values cannot be edited in place")
		}
	default:
		return 0, 0, fmt.Errorf("block scalars (| and >) cannot be edited in place")
	}
	if length <= 0 {
		return 0, 0, fmt.Errorf("multi-line values cannot be edited in place")
	}
	return lineStart + start, lineStart + start + length, nil
}

// quotedLen is the length of a quoted scalar, quotes included, or -1.
func quotedLen(s []byte, q byte) int {
	for i := 1; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q && q == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case s[i] == q:
			return i + 1
		}
	}
	return -1
}

// yamlScalar writes a value as a YAML scalar, keeping the old quoting for strings
// where it is still valid.
func yamlScalar(v any, style yaml.Style) (string, error) {
	switch x := v.(type) {
	case string:
		switch style {
		case yaml.DoubleQuotedStyle:
			return strconv.Quote(x), nil
		case yaml.SingleQuotedStyle:
			return "'" + strings.ReplaceAll(x, "'", "''") + "'", nil
		}
		b, err := yaml.Marshal(x)
		if err != nil {
			return "", err
		}
		out := strings.TrimSuffix(string(b), "\n")
		if strings.Contains(out, "\n") {
			return strconv.Quote(x), nil
		}
		return out, nil
	default:
		return textValue(v), nil
	}
}

// textValue is how the value reads back from YAML.
func textValue(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
