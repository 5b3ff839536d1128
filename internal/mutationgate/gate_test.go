package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const src = `package p

func f(a, b int) bool {
	if a > b {
		return true
	}
	return a == 0 && b == 0
}
`

// report has two mutants on line 4 (killed, lived) and one on line 7 (lived).
const report = `{"go_module":"m","files":[{"file_name":"p.go","mutations":[
{"type":"CONDITIONALS_NEGATION","status":"KILLED","line":4,"column":7},
{"type":"CONDITIONALS_BOUNDARY","status":"LIVED","line":4,"column":7},
{"type":"INVERT_LOGICAL","status":"LIVED","line":7,"column":14},
{"type":"CONDITIONALS_NEGATION","status":"NOT COVERED","line":7,"column":11},
{"type":"CONDITIONALS_NEGATION","status":"TIMED OUT","line":7,"column":21}]}]}`

func setup(t *testing.T, floors, equivalent string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"targets":        "# comment\np pkg/p . -\n",
		"floors":         floors,
		"equivalent":     equivalent,
		"reports/p.json": report,
		"pkg/p/p.go":     src,
	}
	for name, text := range files {
		f := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func gateRun(dir string, extra ...string) (int, string) {
	var out, errs bytes.Buffer
	args := append([]string{"-targets", filepath.Join(dir, "targets"), "-floors", filepath.Join(dir, "floors"),
		"-equivalents", filepath.Join(dir, "equivalent"), "-reports", filepath.Join(dir, "reports"), "-root", dir}, extra...)
	code := run(args, &out, &errs)
	return code, out.String() + errs.String()
}

func TestGate(t *testing.T) {
	const boundary = `p p.go CONDITIONALS_BOUNDARY "if a > b {" a is never equal to b here` + "\n"
	for _, tc := range []struct {
		name, floors, equivalent string
		code                     int
		want                     []string
	}{
		{"rate above the floor", "p 20\n", "", 0,
			[]string{"25.0%", "LIVED       CONDITIONALS_BOUNDARY    pkg/p/p.go:4:7  if a > b {", "NOT COVERED", "raise"}},
		{"rate below the floor", "p 30\n", "", 1, []string{"BELOW", "INVERT_LOGICAL           pkg/p/p.go:7:14  return a == 0 && b == 0"}},
		{"an equivalent mutant is taken out", "p 33.3\n", boundary, 0, []string{"33.3%", "      1       1"}},
		{"an equivalent entry whose code moved on", "p 0\n", `p p.go CONDITIONALS_BOUNDARY "if a >= b {" reason` + "\n", 1,
			[]string{"equivalent list line 1: no CONDITIONALS_BOUNDARY mutant of p.go \"if a >= b {\""}},
		{"an equivalent entry a test kills", "p 0\n", `p p.go CONDITIONALS_NEGATION "if a > b {" reason` + "\n", 1,
			[]string{"a test kills the CONDITIONALS_NEGATION mutant", "so it is not equivalent"}},
		{"an equivalent entry of a file this run did not mutate", "p 0\n", `p other.go CONDITIONALS_BOUNDARY "if a > b {" reason` + "\n", 0,
			[]string{"25.0%"}},
		{"no floor", "", "", 1, []string{"NO FLOOR", `add "p 25.0"`}},
		{"a floor that is not a percentage", "p 101\n", "", 2, []string{"floors:1: floor \"101\""}},
		{"an equivalent without a reason", "p 0\n", `p p.go CONDITIONALS_BOUNDARY "if a > b {"` + "\n", 2, []string{"equivalent:1: no reason"}},
		{"an equivalent of an unknown target", "p 0\n", `q p.go CONDITIONALS_BOUNDARY "if a > b {" r` + "\n", 2, []string{"no target q"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := setup(t, tc.floors, tc.equivalent)
			code, out := gateRun(dir)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// A partial run (the lines a commit changed, one sampled file) is judged by the
// same floor, but it cannot tell that an equivalent entry names no mutant any more,
// and it never raises a floor.
func TestGatePartialRun(t *testing.T) {
	moved := `p p.go CONDITIONALS_BOUNDARY "if a >= b {" reason` + "\n"
	dir := setup(t, "p 20\n", moved)
	if code, out := gateRun(dir, "-partial"); code != 0 || strings.Contains(out, "PROBLEM") {
		t.Fatalf("an entry the partial run did not reach: exit %d:\n%s", code, out)
	}
	if code, out := gateRun(dir); code != 1 || !strings.Contains(out, "no CONDITIONALS_BOUNDARY mutant") {
		t.Fatalf("the same entry in a whole run: exit %d:\n%s", code, out)
	}
	dir = setup(t, "p 30\n", "")
	if code, out := gateRun(dir, "-partial"); code != 1 || !strings.Contains(out, "BELOW") {
		t.Fatalf("a partial run below the floor: exit %d:\n%s", code, out)
	}
	killed := `p p.go CONDITIONALS_NEGATION "if a > b {" reason` + "\n"
	dir = setup(t, "p 0\n", killed)
	if code, out := gateRun(dir, "-partial"); code != 1 || !strings.Contains(out, "so it is not equivalent") {
		t.Fatalf("an entry a test kills, in a partial run: exit %d:\n%s", code, out)
	}
	dir = setup(t, "p 10\n", "")
	if code, out := gateRun(dir, "-partial", "-raise"); code != 2 || !strings.Contains(out, "-raise with -partial") {
		t.Fatalf("-raise with -partial: exit %d:\n%s", code, out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "floors")); string(data) != "p 10\n" {
		t.Fatalf("a partial run changed the floors: %q", data)
	}
}

func TestGateRaisesFloorsNeverLowers(t *testing.T) {
	dir := setup(t, "# keep me\np 10\n", "")
	if code, out := gateRun(dir, "-raise"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "floors"))
	if string(data) != "# keep me\np 25.0\n" {
		t.Fatalf("floors after -raise: %q", data)
	}
	dir = setup(t, "p 90\n", "")
	if code, out := gateRun(dir, "-raise"); code != 1 || !strings.Contains(out, "BELOW") {
		t.Fatalf("a rate below its floor with -raise: exit %d:\n%s", code, out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "floors")); string(data) != "p 90\n" {
		t.Fatalf("-raise lowered a floor: %q", data)
	}
	dir = setup(t, "", "")
	if code, out := gateRun(dir, "-raise"); code != 0 || !strings.Contains(out, "new") {
		t.Fatalf("a first floor with -raise: exit %d:\n%s", code, out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "floors")); string(data) != "p 25.0\n" {
		t.Fatalf("first floor: %q", data)
	}
}

func TestGateOnlyNamedTargetsNeedReports(t *testing.T) {
	dir := setup(t, "p 0\n", "")
	if code, out := gateRun(dir, "-only", "q"); code != 2 || !strings.Contains(out, "no target q") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	os.Remove(filepath.Join(dir, "reports", "p.json"))
	if code, out := gateRun(dir, "-only", "p"); code != 2 || !strings.Contains(out, "no report") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if code, out := gateRun(dir); code != 2 || !strings.Contains(out, "no reports") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestReadReportRefusesALineTheSourceLacks(t *testing.T) {
	dir := setup(t, "p 0\n", "")
	if err := os.WriteFile(filepath.Join(dir, "pkg/p/p.go"), []byte("package p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := gateRun(dir); code != 2 || !strings.Contains(out, "p.go:4: no such line") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
