// Command mutationgate enforces the kill-rate floors of mutation testing
// (scripts/mutation.sh runs gremlins per target and then this). For each target it
// reads gremlins' JSON report, takes out the known-equivalent mutants, prints the
// kill rate and every survivor, and fails when a rate is below its floor or the
// equivalents list names a mutant that no longer exists or that a test kills.
// With -raise it sets each floor it measured to the rate reached, never lower.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	targets, floors, equivalents, reports, root string
	only                                        []string
	raise, partial                              bool
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mutationgate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var only string
	fs.StringVar(&o.targets, "targets", ".mutation/targets", "the targets file")
	fs.StringVar(&o.floors, "floors", ".mutation/floors", "the kill-rate floors file")
	fs.StringVar(&o.equivalents, "equivalents", ".mutation/equivalent", "the known-equivalent mutants file")
	fs.StringVar(&o.reports, "reports", ".tools/mutation", "directory of the reports, one <target>.json each")
	fs.StringVar(&o.root, "root", ".", "the module root the targets' directories are relative to")
	fs.StringVar(&only, "only", "", "comma-separated targets to check (default: every target with a report)")
	fs.BoolVar(&o.raise, "raise", false, "set each checked target's floor to its rate when higher")
	fs.BoolVar(&o.partial, "partial", false, "the reports mutate part of their targets (changed lines, a sampled file): "+
		"an equivalent entry that names no mutant is not judged, and no floor is raised")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if only != "" {
		o.only = strings.Split(only, ",")
	}
	if o.raise && o.partial {
		// A floor is a whole target's rate: a part of it says nothing of the rest.
		fmt.Fprintln(stderr, "mutationgate: -raise with -partial: floors are raised only by a run of whole targets")
		return 2
	}
	ok, err := gate(o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "mutationgate:", err)
		return 2
	}
	if !ok {
		return 1
	}
	return 0
}

// gate checks every target that has a report (or the -only ones, which must).
func gate(o options, out io.Writer) (bool, error) {
	targets, err := ReadTargets(o.targets)
	if err != nil {
		return false, err
	}
	floors, err := ReadFloors(o.floors)
	if err != nil {
		return false, err
	}
	equivalents, err := ReadEquivalents(o.equivalents)
	if err != nil {
		return false, err
	}
	known := map[string]bool{}
	for _, t := range targets {
		known[t.Name] = true
	}
	for _, e := range equivalents {
		if !known[e.Target] {
			return false, fmt.Errorf("%s:%d: no target %s in %s", o.equivalents, e.Line, e.Target, o.targets)
		}
	}
	want := map[string]bool{}
	for _, n := range o.only {
		if !known[n] {
			return false, fmt.Errorf("-only: no target %s in %s", n, o.targets)
		}
		want[n] = true
	}
	ok, checked := true, 0
	raised := map[string]float64{}
	fmt.Fprintf(out, "%-12s %7s %7s %6s %6s %7s %6s %8s %7s\n", "target", "killed", "lived", "uncov", "equiv", "timeout", "rate", "floor", "")
	for _, t := range targets {
		report := filepath.Join(o.reports, t.Name+".json")
		if _, err := os.Stat(report); err != nil {
			if want[t.Name] {
				return false, fmt.Errorf("target %s: no report %s", t.Name, report)
			}
			continue
		}
		if len(want) > 0 && !want[t.Name] {
			continue
		}
		checked++
		mutants, err := ReadReport(report, filepath.Join(o.root, t.Dir))
		if err != nil {
			return false, err
		}
		r, problems := Judge(t, mutants, equivalents, o.partial)
		floor, has := floors[t.Name]
		verdict := "ok"
		switch {
		case !has && o.raise:
			verdict = "new"
		case !has:
			verdict, ok = "NO FLOOR", false
			problems = append(problems, fmt.Sprintf("no floor for %s in %s: add \"%s %.1f\" (run with -raise)", t.Name, o.floors, t.Name, r.RoundedRate()))
		case r.Rate() < floor:
			verdict, ok = "BELOW", false
		case r.RoundedRate() > floor:
			verdict = "raise"
		}
		if o.raise && r.RoundedRate() > floor {
			raised[t.Name] = r.RoundedRate()
		}
		fmt.Fprintf(out, "%-12s %7d %7d %6d %6d %7d %5.1f%% %7.1f%% %7s\n", t.Name, r.Killed, r.Lived, r.NotCovered, r.Equiv, r.TimedOut, r.Rate(), floor, verdict)
		for _, s := range r.Survivors {
			fmt.Fprintf(out, "    %-11s %-24s %s/%s:%d:%d  %s\n", s.Status, s.Type, t.Dir, s.File, s.Line, s.Column, s.Source)
		}
		for _, p := range problems {
			fmt.Fprintln(out, "    PROBLEM:", p)
			ok = false
		}
	}
	if checked == 0 {
		return false, fmt.Errorf("no reports in %s", o.reports)
	}
	if len(raised) > 0 {
		if err := WriteFloors(o.floors, raised); err != nil {
			return false, err
		}
		fmt.Fprintf(out, "raised in %s: %s\n", o.floors, strings.Join(sortedKeys(raised), ", "))
	}
	return ok, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
