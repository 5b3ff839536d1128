package runbooks

import (
	"fmt"
	"strconv"
	"strings"
)

// PathStep is one step of a change's value path: a key or a list index.
type PathStep struct {
	Key     string
	Index   int
	IsIndex bool
}

func (s PathStep) String() string {
	if s.IsIndex {
		return fmt.Sprintf("[%d]", s.Index)
	}
	return s.Key
}

// SplitValuePath reads a value path such as spec.template.spec.containers[0].image:
// keys separated by '.', list items written [N] after a key or on their own.
func SplitValuePath(p string) ([]PathStep, error) {
	if p == "" {
		return nil, fmt.Errorf("path is empty")
	}
	var steps []PathStep
	for _, seg := range strings.Split(p, ".") {
		key, rest, _ := strings.Cut(seg, "[")
		if rest != "" || strings.HasSuffix(seg, "[") {
			rest = "[" + rest
		}
		if key == "" && rest == "" {
			return nil, fmt.Errorf("invalid path %q: empty segment", p)
		}
		if strings.ContainsAny(key, "]") {
			return nil, fmt.Errorf("invalid path %q: unexpected ']' in %q", p, seg)
		}
		if key != "" {
			steps = append(steps, PathStep{Key: key})
		}
		for rest != "" {
			end := strings.Index(rest, "]")
			if !strings.HasPrefix(rest, "[") || end < 0 {
				return nil, fmt.Errorf("invalid path %q: list items are written [N]", p)
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n < 0 || rest[1:end] != strconv.Itoa(n) {
				return nil, fmt.Errorf("invalid path %q: %q is not a list index", p, rest[:end+1])
			}
			steps = append(steps, PathStep{Index: n, IsIndex: true})
			rest = rest[end+1:]
		}
	}
	return steps, nil
}
