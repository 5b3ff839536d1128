package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Target is one line of the targets file: a set of trust-critical files measured
// together (name), the package directory they are in, which of its files are
// mutated, and which slow tests the quick run skips.
type Target struct {
	Name    string
	Dir     string
	Files   string // regexp of the file names (relative to Dir) that are mutated
	Skip    string // go test -skip pattern of the quick run, or ""
	Line    int
	Comment string
}

// Equivalent is a mutant no test can kill because it does not change behaviour,
// named by its target, file, mutator and the source line it is on (not its line
// number, which every edit above it moves), with the reason it is equivalent.
type Equivalent struct {
	Target, File, Type, Source, Reason string
	Line                               int
}

// lines yields the meaningful lines of a list file: trimmed, without blank lines and
// "#" comments, with their line numbers.
func lines(file string) ([]string, []int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", file, err)
	}
	var out []string
	var nums []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
		nums = append(nums, n)
	}
	return out, nums, sc.Err()
}

// ReadTargets reads "name dir files-regexp skip-pattern" lines ("-" for no skip).
func ReadTargets(file string) ([]Target, error) {
	ls, nums, err := lines(file)
	if err != nil {
		return nil, err
	}
	var out []Target
	seen := map[string]bool{}
	for i, l := range ls {
		f := strings.Fields(l)
		if len(f) != 4 {
			return nil, fmt.Errorf("%s:%d: want 4 fields (name dir files-regexp skip-pattern), got %d", file, nums[i], len(f))
		}
		if seen[f[0]] {
			return nil, fmt.Errorf("%s:%d: target %s listed twice", file, nums[i], f[0])
		}
		seen[f[0]] = true
		t := Target{Name: f[0], Dir: f[1], Files: f[2], Skip: f[3], Line: nums[i]}
		if t.Skip == "-" {
			t.Skip = ""
		}
		out = append(out, t)
	}
	return out, nil
}

// ReadFloors reads "name percent" lines: the lowest kill rate each target may have.
func ReadFloors(file string) (map[string]float64, error) {
	ls, nums, err := lines(file)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for i, l := range ls {
		f := strings.Fields(l)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"target percent\"", file, nums[i])
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil || v < 0 || v > 100 {
			return nil, fmt.Errorf("%s:%d: floor %q: want a percentage from 0 to 100", file, nums[i], f[1])
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("%s:%d: target %s listed twice", file, nums[i], f[0])
		}
		out[f[0]] = v
	}
	return out, nil
}

// ReadEquivalents reads `target file TYPE "source line" reason` lines. The source
// line is Go-quoted, the line's text without its indentation; the reason is required.
func ReadEquivalents(file string) ([]Equivalent, error) {
	ls, nums, err := lines(file)
	if err != nil {
		return nil, err
	}
	var out []Equivalent
	for i, l := range ls {
		f := strings.SplitN(l, " ", 4)
		if len(f) != 4 {
			return nil, fmt.Errorf("%s:%d: want target file TYPE \"source line\" reason", file, nums[i])
		}
		rest := strings.TrimSpace(f[3])
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: source line: want a Go-quoted string: %w", file, nums[i], err)
		}
		src, _ := strconv.Unquote(q)
		reason := strings.TrimSpace(rest[len(q):])
		if reason == "" {
			return nil, fmt.Errorf("%s:%d: no reason: say why the mutant cannot change behaviour", file, nums[i])
		}
		out = append(out, Equivalent{Target: f[0], File: f[1], Type: f[2], Source: strings.TrimSpace(src), Reason: reason, Line: nums[i]})
	}
	return out, nil
}

// WriteFloors rewrites the floors file with the new values, keeping its comments
// and order; targets it did not list are appended.
func WriteFloors(file string, floors map[string]float64) error {
	data, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", file, err)
	}
	var b strings.Builder
	done := map[string]bool{}
	for _, l := range strings.SplitAfter(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			if v, ok := floors[f[0]]; ok {
				fmt.Fprintf(&b, "%s %.1f\n", f[0], v)
				done[f[0]] = true
				continue
			}
		}
		b.WriteString(l)
	}
	for _, name := range sortedKeys(floors) {
		if !done[name] {
			fmt.Fprintf(&b, "%s %.1f\n", name, floors[name])
		}
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}
