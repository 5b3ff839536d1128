package edits

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// editJSON replaces the bytes of one scalar value in a JSON document: key order,
// indentation and everything else stay byte for byte.
func editJSON(src []byte, path string, compute func(any) (any, error)) ([]byte, any, any, error) {
	steps, err := runbooks.SplitValuePath(path)
	if err != nil {
		return nil, nil, nil, err
	}
	if !json.Valid(src) {
		return nil, nil, nil, fmt.Errorf("the file is not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	start, end, err := findJSON(dec, src, steps)
	if err != nil {
		return nil, nil, nil, err
	}
	var raw any
	if err := json.Unmarshal(src[start:end], &raw); err != nil {
		return nil, nil, nil, fmt.Errorf("read current value: %w", err)
	}
	current := raw
	if f, ok := raw.(float64); ok {
		current = number(f)
	}
	val, err := compute(current)
	if err != nil {
		return nil, nil, nil, err
	}
	if sameValue(current, val) {
		return src, current, val, nil
	}
	enc, err := json.Marshal(val)
	if err != nil {
		return nil, nil, nil, err
	}
	out := make([]byte, 0, len(src)+len(enc))
	out = append(append(append(out, src[:start]...), enc...), src[end:]...)
	return out, current, val, nil
}

// findJSON returns the byte span of the scalar at the path.
func findJSON(dec *json.Decoder, src []byte, steps []runbooks.PathStep) (int, int, error) {
	if len(steps) == 0 {
		start := skipSeparators(src, int(dec.InputOffset()))
		tok, err := dec.Token()
		if err != nil {
			return 0, 0, err
		}
		if _, isDelim := tok.(json.Delim); isDelim {
			return 0, 0, fmt.Errorf("the value at the path is an object or list, not a number, string or bool")
		}
		return start, int(dec.InputOffset()), nil
	}
	tok, err := dec.Token()
	if err != nil {
		return 0, 0, err
	}
	step := steps[0]
	switch tok {
	case json.Delim('{'):
		if step.IsIndex {
			return 0, 0, fmt.Errorf("%s: found an object, not a list", step)
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return 0, 0, err
			}
			if k == step.Key {
				return findJSON(dec, src, steps[1:])
			}
			if err := skipJSON(dec); err != nil {
				return 0, 0, err
			}
		}
		return 0, 0, fmt.Errorf("no key %q", step.Key)
	case json.Delim('['):
		if !step.IsIndex {
			return 0, 0, fmt.Errorf("%s: found a list, not an object", step)
		}
		for i := 0; dec.More(); i++ {
			if i == step.Index {
				return findJSON(dec, src, steps[1:])
			}
			if err := skipJSON(dec); err != nil {
				return 0, 0, err
			}
		}
		return 0, 0, fmt.Errorf("no item %s", step)
	}
	return 0, 0, fmt.Errorf("%s: found a scalar, the path goes deeper", step)
}

func skipJSON(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// skipSeparators moves past whitespace, ':' and ',' to the first byte of a value.
func skipSeparators(src []byte, i int) int {
	for i < len(src) {
		switch src[i] {
		case ' ', '\t', '\r', '\n', ':', ',':
			i++
		default:
			return i
		}
	}
	return i
}
