package signing

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/text/unicode/norm"
)

// Normalize is the one spelling of an identity every comparison uses (principals,
// approvers, required reviewers, team members, check reporters, the audit): Unicode
// NFC, lower case, no surrounding space. Two spellings of one name are one identity;
// nothing else is (no local-part or domain matching).
func Normalize(name string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(name)))
}

// SameIdentity says whether two names are one identity under Normalize.
func SameIdentity(a, b string) bool {
	return a != "" && Normalize(a) == Normalize(b)
}

// IsPattern says whether a principal of an allowed-signers line is a pattern (ssh's
// wildcards or a negation) rather than one identity.
func IsPattern(principal string) bool { return strings.ContainsAny(principal, "*?!") }

// Signer is one line of an allowed-signers file: who (principal patterns) may sign
// with which key, in which namespaces and when.
type Signer struct {
	Principals  []string
	Key         ssh.PublicKey
	Namespaces  []string
	ValidAfter  time.Time
	ValidBefore time.Time
	Line        int
}

// AllowedSigners is a parsed allowed-signers file (Git's gpg.ssh.allowedSignersFile,
// ssh-keygen(1) "ALLOWED SIGNERS").
type AllowedSigners struct {
	File    string
	Signers []Signer
	// Refused are the lines the remediator cannot honour exactly (a certificate
	// authority, an option it does not implement): they vouch for nothing, and a
	// signature by their key is refused naming the line, while every other line
	// keeps working.
	Refused []RefusedLine
}

// RefusedLine is a line of the file that is not honoured, and why.
type RefusedLine struct {
	Line int
	// Key is the line's key, when it could be read.
	Key    ssh.PublicKey
	Reason string
}

// String names the line and why it is not honoured.
func (r RefusedLine) String() string {
	return fmt.Sprintf("line %d is not honoured: %s", r.Line, r.Reason)
}

// MaxAllowedSignersBytes bounds the file.
const MaxAllowedSignersBytes = 4 << 20

// LoadAllowedSigners reads and parses an allowed-signers file.
func LoadAllowedSigners(file string) (*AllowedSigners, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read allowed signers: %w", err)
	}
	return ParseAllowedSigners(file, data)
}

// ParseAllowedSigners parses the file's lines: "principals [options] keytype key
// [comment]". Errors name the file and line. A line the remediator cannot honour
// exactly (a certificate authority: an approval is one person's key, not whatever a
// CA vouches for; an option it does not implement) is kept in Refused, naming the
// line, and stops nobody else's signatures.
func ParseAllowedSigners(file string, data []byte) (*AllowedSigners, error) {
	if len(data) > MaxAllowedSignersBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", file, MaxAllowedSignersBytes)
	}
	as := &AllowedSigners{File: file}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), MaxAllowedSignersBytes)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, refused, err := parseSignerLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, n, err)
		}
		if refused != "" {
			as.Refused = append(as.Refused, RefusedLine{Line: n, Key: s.Key, Reason: fmt.Sprintf("%s:%d: %s", file, n, refused)})
			continue
		}
		s.Line = n
		as.Signers = append(as.Signers, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return as, nil
}

func parseSignerLine(line string) (s Signer, refused string, err error) {
	principals, rest, err := firstField(line)
	if err != nil {
		return Signer{}, "", err
	}
	for _, p := range strings.Split(principals, ",") {
		if p = strings.TrimSpace(p); p != "" {
			s.Principals = append(s.Principals, p)
		}
	}
	if len(s.Principals) == 0 {
		return Signer{}, "", fmt.Errorf("no principals")
	}
	key, _, options, _, err := ssh.ParseAuthorizedKey([]byte(rest))
	if err != nil {
		return Signer{}, "", fmt.Errorf("principals %q: key: %w", principals, err)
	}
	s.Key = key
	if _, isCert := key.(*ssh.Certificate); isCert {
		return s, fmt.Sprintf("principals %q: certificates are not accepted: list the person's own key", principals), nil
	}
	for _, o := range options {
		if refused, err = s.option(o, principals); refused != "" || err != nil {
			return s, refused, err
		}
	}
	return s, "", nil
}

// option applies one option of a line; one the remediator cannot honour exactly
// refuses the line.
func (s *Signer) option(o, principals string) (refused string, err error) {
	name, value, _ := strings.Cut(o, "=")
	value = strings.Trim(value, `"`)
	switch strings.ToLower(name) {
	case "namespaces":
		for _, ns := range strings.Split(value, ",") {
			s.Namespaces = append(s.Namespaces, strings.TrimSpace(ns))
		}
	case "valid-after":
		if s.ValidAfter, err = parseSSHTime(value); err != nil {
			return "", fmt.Errorf("valid-after: %w", err)
		}
	case "valid-before":
		if s.ValidBefore, err = parseSSHTime(value); err != nil {
			return "", fmt.Errorf("valid-before: %w", err)
		}
	case "cert-authority":
		return fmt.Sprintf("principals %q: cert-authority is not accepted: list the person's own key", principals), nil
	default:
		return fmt.Sprintf("principals %q: unknown option %q", principals, name), nil
	}
	return "", nil
}

// firstField splits off the principals, which may be quoted.
func firstField(line string) (field, rest string, err error) {
	if strings.HasPrefix(line, `"`) {
		end := strings.IndexByte(line[1:], '"')
		if end < 0 {
			return "", "", fmt.Errorf("unterminated quoted principals")
		}
		return line[1 : end+1], strings.TrimSpace(line[end+2:]), nil
	}
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return "", "", fmt.Errorf("want principals, then a key")
	}
	return line[:i], strings.TrimSpace(line[i+1:]), nil
}

// parseSSHTime reads YYYYMMDD[HHMM[SS]][Z]; without Z it is local time, as ssh-keygen.
func parseSSHTime(v string) (time.Time, error) {
	loc := time.Local
	if strings.HasSuffix(v, "Z") || strings.HasSuffix(v, "z") {
		loc, v = time.UTC, v[:len(v)-1]
	}
	for _, layout := range []string{"20060102", "200601021504", "20060102150405"} {
		if len(v) == len(layout) {
			if t, err := time.ParseInLocation(layout, v, loc); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q: want YYYYMMDD[HHMM[SS]][Z]", v)
}

// matchesPrincipal applies ssh's pattern-list rules: wildcards * and ?, and a
// negated pattern (!p) that matches refuses the principal outright.
func (s Signer) matchesPrincipal(principal string) bool {
	ok := false
	for _, p := range s.Principals {
		neg := strings.HasPrefix(p, "!")
		pat := strings.TrimPrefix(p, "!")
		m, err := path.Match(Normalize(pat), Normalize(principal))
		if err != nil || !m {
			continue
		}
		if neg {
			return false
		}
		ok = true
	}
	return ok
}

func (s Signer) allows(namespace string, at time.Time) string {
	if len(s.Namespaces) > 0 {
		found := false
		for _, ns := range s.Namespaces {
			if m, _ := path.Match(ns, namespace); m {
				found = true
			}
		}
		if !found {
			return fmt.Sprintf("the key may not sign in namespace %s (line %d)", namespace, s.Line)
		}
	}
	if !s.ValidAfter.IsZero() && at.Before(s.ValidAfter) {
		return fmt.Sprintf("the key is valid only after %s (line %d)", s.ValidAfter.UTC().Format(time.RFC3339), s.Line)
	}
	if !s.ValidBefore.IsZero() && !at.Before(s.ValidBefore) {
		return fmt.Sprintf("the key was valid only before %s (line %d)", s.ValidBefore.UTC().Format(time.RFC3339), s.Line)
	}
	return ""
}

// Verify checks an armored signature over data: it must be valid, made in the
// namespace, by a key the file lists for the principal (a pattern matches), at a
// time the line allows. It returns why not, or nil.
func (as *AllowedSigners) Verify(data, armored []byte, principal, namespace string, at time.Time) error {
	_, err := as.verify(data, armored, principal, namespace, at, false)
	return err
}

// VerifyPerson is Verify for a signature that stands for one person (an approval):
// the line must list the principal itself, not a pattern that matches it, since a
// pattern lets one key sign as any number of people. It returns the signing key.
func (as *AllowedSigners) VerifyPerson(data, armored []byte, principal, namespace string, at time.Time) (ssh.PublicKey, error) {
	return as.verify(data, armored, principal, namespace, at, true)
}

func (as *AllowedSigners) verify(data, armored []byte, principal, namespace string, at time.Time, literal bool) (ssh.PublicKey, error) {
	sig, err := ParseSignature(armored)
	if err != nil {
		return nil, err
	}
	var why []string
	for _, s := range as.Signers {
		if !SameKey(s.Key, sig.PublicKey()) {
			continue
		}
		if !s.matchesPrincipal(principal) {
			why = append(why, fmt.Sprintf("the key is listed for %s, not %s (line %d)", strings.Join(s.Principals, ","), principal, s.Line))
			continue
		}
		if literal && !s.names(principal) {
			why = append(why, fmt.Sprintf("the key is listed for %s only by a pattern principal (line %d): a pattern verifies signatures but never approves as a person", principal, s.Line))
			continue
		}
		if reason := s.allows(namespace, at); reason != "" {
			why = append(why, reason)
			continue
		}
		if err := sig.VerifyWith(data, s.Key, namespace); err != nil {
			return nil, fmt.Errorf("signature does not verify: %w", err)
		}
		return s.Key, nil
	}
	for _, r := range as.Refused {
		if r.Key != nil && SameKey(r.Key, sig.PublicKey()) {
			why = append(why, r.String())
		}
	}
	if len(why) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(why, "; "))
	}
	return nil, fmt.Errorf("signed by %s, a key not in %s", ssh.FingerprintSHA256(sig.PublicKey()), as.File)
}

// names says whether the line lists the principal itself (not by a pattern).
func (s Signer) names(principal string) bool {
	for _, p := range s.Principals {
		if !IsPattern(p) && SameIdentity(p, principal) {
			return true
		}
	}
	return false
}

// ListsFor says whether the file lists key for any of the principals, by name.
func (as *AllowedSigners) ListsFor(key ssh.PublicKey, principals []string) bool {
	for _, s := range as.Signers {
		if !SameKey(s.Key, key) {
			continue
		}
		for _, p := range principals {
			if s.names(p) {
				return true
			}
		}
	}
	return false
}

// CanBe says whether some line names principal (literally): someone can approve as it.
func (as *AllowedSigners) CanBe(principal string) bool {
	for _, s := range as.Signers {
		if s.names(principal) {
			return true
		}
	}
	return false
}

// PrincipalsOf lists the literal principals (no wildcards) the file gives a key: who
// a reviewer is when they sign with it.
func (as *AllowedSigners) PrincipalsOf(key ssh.PublicKey) []string {
	var out []string
	for _, s := range as.Signers {
		if !SameKey(s.Key, key) {
			continue
		}
		for _, p := range s.Principals {
			if !IsPattern(p) {
				out = append(out, p)
			}
		}
	}
	return out
}
