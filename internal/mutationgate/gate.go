package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Report is the part of gremlins' JSON output (-o) the gate reads.
type Report struct {
	Files []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// Mutant is one mutation of a report, with the source line it is on.
type Mutant struct {
	File, Type, Status, Source string
	Line, Column               int
	Equivalent                 *Equivalent
}

// Result is a target's figures after the equivalent mutants are taken out.
type Result struct {
	Target                                             Target
	Killed, Lived, NotCovered, TimedOut, Equiv, Others int
	Survivors                                          []Mutant
}

// Rate is the kill rate: killed over every mutant that could have been killed
// (killed, lived, and not covered: a mutant no test reaches survives too).
// Timeouts count on neither side.
func (r Result) Rate() float64 {
	n := r.Killed + r.Lived + r.NotCovered
	if n == 0 {
		return 100
	}
	return float64(r.Killed) * 100 / float64(n)
}

// RoundedRate is the rate rounded down to the floors file's one decimal.
func (r Result) RoundedRate() float64 { return math.Floor(r.Rate()*10) / 10 }

// ReadReport reads a gremlins JSON report and the source line of each mutant.
func ReadReport(file, dir string) ([]Mutant, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("read report %s: %w", file, err)
	}
	var out []Mutant
	for _, f := range rep.Files {
		src, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			return nil, fmt.Errorf("read source of report %s: %w", file, err)
		}
		text := strings.Split(string(src), "\n")
		for _, m := range f.Mutations {
			if m.Line < 1 || m.Line > len(text) {
				return nil, fmt.Errorf("report %s: %s:%d: no such line (was the source changed after the run?)", file, f.Name, m.Line)
			}
			out = append(out, Mutant{File: f.Name, Type: m.Type, Status: m.Status, Line: m.Line, Column: m.Column,
				Source: strings.TrimSpace(text[m.Line-1])})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return out, nil
}

// Judge counts a target's mutants, taking out those its equivalents name. An
// equivalent entry that names no mutant (the code moved on) or only killed ones (so
// it was not equivalent) is a problem: the list must not rot. A partial run (the
// changed lines, a sampled file) cannot tell that an entry names no mutant any
// more: only the lines it mutated are judged.
func Judge(t Target, mutants []Mutant, equivalents []Equivalent, partial bool) (Result, []string) {
	r := Result{Target: t}
	var problems []string
	// A run may mutate only some of a target's files (the quick run's changed files,
	// MUTATION_FILES): an entry for a file it did not mutate is not judged by it.
	mutated := map[string]bool{}
	for _, m := range mutants {
		mutated[m.File] = true
	}
	for i := range equivalents {
		e := &equivalents[i]
		if e.Target != t.Name || !mutated[e.File] {
			continue
		}
		matched, killed := 0, 0
		for j := range mutants {
			m := &mutants[j]
			if m.File != e.File || m.Type != e.Type || m.Source != e.Source {
				continue
			}
			matched++
			if m.Status == "KILLED" {
				killed++
				continue
			}
			m.Equivalent = e
		}
		switch {
		case matched == 0 && partial:
		case matched == 0:
			problems = append(problems, fmt.Sprintf("equivalent list line %d: no %s mutant of %s %q in %s any more: remove or update the entry",
				e.Line, e.Type, e.File, e.Source, t.Name))
		case killed == matched:
			problems = append(problems, fmt.Sprintf("equivalent list line %d: a test kills the %s mutant of %s %q, so it is not equivalent: remove the entry",
				e.Line, e.Type, e.File, e.Source))
		}
	}
	for _, m := range mutants {
		switch {
		case m.Equivalent != nil:
			r.Equiv++
		case m.Status == "KILLED":
			r.Killed++
		case m.Status == "LIVED":
			r.Lived++
			r.Survivors = append(r.Survivors, m)
		case m.Status == "NOT COVERED":
			r.NotCovered++
			r.Survivors = append(r.Survivors, m)
		case m.Status == "TIMED OUT":
			r.TimedOut++
		default:
			r.Others++
		}
	}
	return r, problems
}
