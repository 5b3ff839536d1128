package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// cpuProfile writes a CPU profile of this run to the file REMEDIATOR_CPUPROFILE names:
// how the benchmarks' whole-process figures (audit, plan-check, propose) are
// explained. It returns the function that stops it.
func cpuProfile(stderr io.Writer) func() {
	file := os.Getenv("REMEDIATOR_CPUPROFILE")
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(stderr, "warning: cpu profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(stderr, "warning: cpu profile:", err)
		_ = f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }
}
