package runbooks

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Terraform resource address patterns, as a runbook's plan.allowed_addresses and a
// policy's plan.denied_resource_types use them. They follow Terraform's own address
// syntax, so `[0]` and `["key"]` are instance keys, not globs:
//
//	aws_instance.worker            the resource, every instance of it (as -target)
//	aws_instance.worker[*]         any instance key of it
//	aws_instance.worker[0]         the instance with key 0
//	module.db["eu"].aws_db_instance.main
//	module.*.aws_instance.*        * matches one name (also part of one: aws_*)
//	**.aws_autoscaling_group.api   ** matches any module path, the root too
//	data.aws_ami.*                 data sources the same way
//
// A pattern without an instance key on a step matches that step with any key or
// none, as Terraform's -target does.

// addressStep is one dot-separated step of an address: a name and its instance key.
type addressStep struct {
	name string
	// key is the instance key as written in canonical form (0, "eu"), "" when none.
	key    string
	hasKey bool
	// literal: a pattern step's name has no wildcard, so it is compared as text.
	literal bool
	// prefix: a pattern step's name is a literal and one trailing "*" (the usual
	// shape), compared as a prefix.
	prefix bool
}

// Address is a parsed resource address: parse it once to match many patterns.
type Address struct{ steps []addressStep }

// ParseAddress reads a resource address as `terraform show -json` writes it.
func ParseAddress(s string) (Address, error) {
	steps, err := splitAddress(nil, s, false)
	return Address{steps: steps}, err
}

// ParseAddressInto is ParseAddress reusing a's storage: checking a plan of 10,000
// changes then allocates for the first address only. a is overwritten.
func ParseAddressInto(s string, a *Address) error {
	steps, err := splitAddress(a.steps[:0], s, false)
	a.steps = steps
	return err
}

// AddressPattern is a parsed address pattern.
type AddressPattern struct {
	raw   string
	steps []addressStep
}

// String is the pattern as written.
func (p *AddressPattern) String() string { return p.raw }

// ParseAddressPattern reads a pattern, saying what is wrong with a bad one.
func ParseAddressPattern(s string) (*AddressPattern, error) {
	steps, err := splitAddress(nil, s, true)
	if err != nil {
		return nil, err
	}
	for i, st := range steps {
		steps[i].literal = !strings.ContainsAny(st.name, `*?[\`)
		steps[i].prefix = isPrefixGlob(st.name)
		if st.name == "**" && st.hasKey {
			return nil, fmt.Errorf("%q: ** matches module paths and takes no instance key", s)
		}
		if st.name != "**" {
			if _, err := path.Match(st.name, ""); err != nil {
				return nil, fmt.Errorf("%q: bad name pattern %q", s, st.name)
			}
		}
	}
	return &AddressPattern{raw: s, steps: steps}, nil
}

// MatchAddress says whether a resource address (as `terraform show -json` writes it)
// matches the pattern. An address that does not parse matches nothing.
func (p *AddressPattern) MatchAddress(addr string) bool {
	a, err := ParseAddress(addr)
	if err != nil {
		return false
	}
	return p.Match(a)
}

// Match says whether a parsed address matches the pattern.
func (p *AddressPattern) Match(a Address) bool {
	if len(a.steps) == 0 {
		return false
	}
	return matchSteps(p.steps, a.steps)
}

func matchSteps(pat, addr []addressStep) bool {
	if len(pat) == 0 {
		return len(addr) == 0
	}
	if pat[0].name == "**" {
		// Zero or more module instances: module.NAME[KEY] pairs.
		for i := 0; ; i += 2 {
			if matchSteps(pat[1:], addr[i:]) {
				return true
			}
			if i+1 >= len(addr) || addr[i].name != "module" {
				return false
			}
		}
	}
	if len(addr) == 0 || !matchStep(pat[0], addr[0]) {
		return false
	}
	return matchSteps(pat[1:], addr[1:])
}

func matchStep(p, a addressStep) bool {
	if p.literal {
		if p.name != a.name {
			return false
		}
	} else if p.prefix {
		if !strings.HasPrefix(a.name, p.name[:len(p.name)-1]) {
			return false // a step's name holds no "/", which "*" would refuse
		}
	} else if ok, _ := path.Match(p.name, a.name); !ok {
		return false
	}
	switch {
	case !p.hasKey:
		return true
	case p.key == "*":
		return a.hasKey
	default:
		return a.hasKey && p.key == a.key
	}
}

// splitAddress splits at the dots outside brackets and quotes, appending the steps
// to steps (nil: new storage); each step may end in one [key]. Patterns may use **
// and [*].
func splitAddress(steps []addressStep, s string, pattern bool) ([]addressStep, error) {
	if strings.TrimSpace(s) != s || s == "" {
		return nil, fmt.Errorf("%q: empty, or spaces around it", s)
	}
	if steps == nil {
		steps = make([]addressStep, 0, 4)
	}
	for rest := s; ; {
		name, after, _ := strings.Cut(rest, ".")
		st := addressStep{name: name}
		if i := strings.IndexByte(name, '['); i >= 0 {
			// The key may hold dots and brackets inside quotes: read it whole.
			key, tail, err := readKey(rest[i:])
			if err != nil {
				return nil, fmt.Errorf("%q: %w", s, err)
			}
			st.name, st.key, st.hasKey = rest[:i], key, true
			if tail != "" && !strings.HasPrefix(tail, ".") {
				return nil, fmt.Errorf("%q: unexpected %q after an instance key", s, tail)
			}
			after = strings.TrimPrefix(tail, ".")
			if tail == "" {
				after = ""
			}
			rest = after
			if st.key == "*" && !pattern {
				return nil, fmt.Errorf("%q: [*] in an address", s)
			}
			if st.name == "" {
				return nil, fmt.Errorf("%q: an instance key without a name", s)
			}
			if err := checkName(s, st.name, pattern); err != nil {
				return nil, err
			}
			steps = append(steps, st)
			if tail == "" {
				return steps, nil
			}
			continue
		}
		if err := checkName(s, name, pattern); err != nil {
			return nil, err
		}
		steps = append(steps, st)
		if !strings.Contains(rest, ".") {
			return steps, nil
		}
		rest = after
	}
}

// checkName accepts a Terraform identifier (letters, digits, _ and -), and in a
// pattern the wildcards * and ?, or ** alone.
func checkName(s, name string, pattern bool) error {
	if name == "" {
		return fmt.Errorf("%q: an empty step", s)
	}
	if pattern && name == "**" {
		return nil
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
		case pattern && (r == '*' || r == '?'):
		default:
			return fmt.Errorf("%q: %q is not a Terraform name", s, name)
		}
	}
	return nil
}

// readKey reads "[KEY]" at the start of s and returns KEY in canonical form (a
// number as written, a string quoted as Go quotes it) and what follows.
func readKey(s string) (key, tail string, err error) {
	if len(s) < 3 || s[0] != '[' {
		return "", "", fmt.Errorf("bad instance key in %q", s)
	}
	if s[1] == '"' {
		// A quoted key: find its closing quote, honouring escapes.
		for i := 2; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				if i+1 >= len(s) || s[i+1] != ']' {
					return "", "", fmt.Errorf("want ] after the key in %q", s)
				}
				unq, err := strconv.Unquote(s[1 : i+1])
				if err != nil {
					return "", "", fmt.Errorf("bad string key %s", s[1:i+1])
				}
				return strconv.Quote(unq), s[i+2:], nil
			}
		}
		return "", "", fmt.Errorf("unterminated string key in %q", s)
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", "", fmt.Errorf("unterminated instance key in %q", s)
	}
	k := s[1:end]
	if k != "*" {
		if _, err := strconv.ParseUint(k, 10, 64); err != nil {
			return "", "", fmt.Errorf("instance key %q: want a number, a quoted string or *", k)
		}
	}
	return k, s[end+1:], nil
}

// MatchResourceType says whether a resource type matches a denied_resource_types
// pattern: a type name, * matching any part of one (aws_iam_*).
func MatchResourceType(pattern, typ string) bool {
	return matchGlob(pattern, typ)
}

// matchGlob is path.Match for one name, a malformed pattern matching nothing. The
// usual shape, a literal prefix and one trailing "*", is read without path.Match's
// general scanner: a plan check asks it for every change, for every pattern.
func matchGlob(pattern, name string) bool {
	if isPrefixGlob(pattern) {
		i := len(pattern) - 1
		return strings.HasPrefix(name, pattern[:i]) && !strings.Contains(name[i:], "/")
	}
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// isPrefixGlob reports whether a pattern is a literal and one trailing "*".
func isPrefixGlob(pattern string) bool {
	i := len(pattern) - 1
	return i >= 0 && pattern[i] == '*' && !strings.ContainsAny(pattern[:i], `*?[\`)
}

// MatchResourceTypeValid says whether a resource type pattern is well formed.
func MatchResourceTypeValid(pattern string) bool {
	_, err := path.Match(pattern, "")
	return err == nil
}
