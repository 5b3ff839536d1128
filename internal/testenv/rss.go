package testenv

import (
	"os"
	"strconv"
	"strings"
)

// PeakRSSMB is the process's peak resident memory (VmHWM of /proc/self/status), in
// MB, for benchmarks that report memory; 0 where the system does not say.
func PeakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
