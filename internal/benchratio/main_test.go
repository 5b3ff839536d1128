package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRatios(t *testing.T) {
	in := `goos: linux
BenchmarkRoute/indexed-2         	    2000	     31012 ns/op	     32247 anomalies/s
BenchmarkRoute/peer=linear_scan-2         	    2000	    396348 ns/op	      2523 anomalies/s
BenchmarkApply200/remediation_runbook-2         	       2	8839463258 ns/op
BenchmarkApply200/peer=terraform_data-2         	       2	3042742365 ns/op
BenchmarkApply1000/remediation_runbook-2         	       1	15750000000 ns/op
BenchmarkApply1000/peer=local_file-2         	       1	15000000000 ns/op
BenchmarkApply1000/floor=write_skipped-2         	       1	14100000000 ns/op
PASS
`
	var out bytes.Buffer
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"BenchmarkRoute: indexed is 12.78x faster than linear_scan (31.0µs vs 396.3µs per op)",
		"BenchmarkApply200: remediation_runbook is 2.91x the time of terraform_data (8.84s vs 3.04s per op)",
		"BenchmarkApply1000: remediation_runbook is 1.05x the time of local_file (15.75s vs 15.00s per op)",
		"BenchmarkApply1000: remediation_runbook is 1.12x the time of the floor write_skipped (15.75s vs 14.10s per op)",
		"BenchmarkApply1000: floor write_skipped is 1.06x faster than local_file (14.10s vs 15.00s per op)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out.String())
		}
	}
	if err := run(strings.NewReader("BenchmarkX/a-2 1 5 ns/op\n"), &out); err == nil {
		t.Error("no peer: want an error")
	}
	if err := run(strings.NewReader(in+"--- FAIL: BenchmarkY\n"), &out); err == nil {
		t.Error("failed benchmark: want an error")
	}
}

// A benchmark of request counts is compared on its counted/op, per size.
func TestCountedRequests(t *testing.T) {
	in := `BenchmarkForgeBudget/open=200/peer=before-2+2N-2 	 3	 1423855 ns/op	 402.0 counted/op
BenchmarkForgeBudget/open=200/quiet-pass-2 	 3	 10189485 ns/op	 2.000 304s/op	 0 counted/op
BenchmarkForgeBudget/open=10/peer=before-2+2N-2 	 3	 1423855 ns/op	 22.00 counted/op
BenchmarkForgeBudget/open=10/proposal-opened-2 	 3	 10189485 ns/op	 2.000 304s/op	 4 counted/op
`
	var out bytes.Buffer
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"BenchmarkForgeBudget/open=200: quiet-pass costs 0 counted requests per op against 402 for before-2+2N",
		"BenchmarkForgeBudget/open=10: proposal-opened costs 4 counted requests per op against 22 for before-2+2N",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out.String())
		}
	}
}
