// Command benchratio reads `go test -bench` output and prints every benchmark as a
// ratio against its peer: a sibling sub-benchmark named "peer=<name>", measured in
// the same run; and against each sibling named "floor=<name>" (the same work with a
// part of it skipped: what that part costs). The raw lines pass through, so the
// figures stay visible.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

type result struct {
	name    string // sub-benchmark name
	nsPerOp float64
	// counted is a "counted/op" figure (requests a rate limit counts), when the
	// benchmark reports one: then it is what is compared, not the time.
	counted float64
	hasCnt  bool
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	groups := map[string][]result{}
	var order []string
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	failed := false
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(out, line)
		if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL") {
			failed = true
		}
		parent, r, ok := parse(line)
		if !ok {
			continue
		}
		if _, seen := groups[parent]; !seen {
			order = append(order, parent)
		}
		groups[parent] = append(groups[parent], r)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\n== ratios against peers measured in the same run ==")
	printed := 0
	sort.Strings(order)
	for _, parent := range order {
		rs := groups[parent]
		var peer *result
		var floors []result
		for i := range rs {
			switch {
			case strings.HasPrefix(rs[i].name, "peer="):
				peer = &rs[i]
			case strings.HasPrefix(rs[i].name, "floor="):
				floors = append(floors, rs[i])
			}
		}
		if peer == nil {
			continue
		}
		for _, r := range rs {
			if r.name == peer.name || strings.HasPrefix(r.name, "floor=") {
				continue
			}
			if peer.hasCnt && r.hasCnt {
				fmt.Fprintf(out, "%s: %s costs %s counted requests per op against %s for %s\n", parent, r.name,
					strconv.FormatFloat(r.counted, 'g', 4, 64), strconv.FormatFloat(peer.counted, 'g', 4, 64), strings.TrimPrefix(peer.name, "peer="))
				printed++
				continue
			}
			fmt.Fprintf(out, "%s: %s is %s %s (%s vs %s per op)\n", parent, r.name, verdict(peer.nsPerOp/r.nsPerOp),
				strings.TrimPrefix(peer.name, "peer="), human(r.nsPerOp), human(peer.nsPerOp))
			for _, f := range floors {
				fmt.Fprintf(out, "%s: %s is %s the floor %s (%s vs %s per op)\n", parent, r.name, verdict(f.nsPerOp/r.nsPerOp),
					strings.TrimPrefix(f.name, "floor="), human(r.nsPerOp), human(f.nsPerOp))
			}
			printed++
		}
		for _, f := range floors {
			fmt.Fprintf(out, "%s: floor %s is %s %s (%s vs %s per op)\n", parent, strings.TrimPrefix(f.name, "floor="), verdict(peer.nsPerOp/f.nsPerOp),
				strings.TrimPrefix(peer.name, "peer="), human(f.nsPerOp), human(peer.nsPerOp))
		}
	}
	if printed == 0 {
		return fmt.Errorf("no benchmark with a peer=... sibling found")
	}
	if failed {
		return fmt.Errorf("a benchmark failed")
	}
	return nil
}

// verdict says how a time compares with another, given their ratio (other/this).
func verdict(ratio float64) string {
	if ratio < 1 {
		return fmt.Sprintf("%.2fx the time of", 1/ratio)
	}
	return fmt.Sprintf("%.2fx faster than", ratio)
}

// parse reads "BenchmarkX/sub-2   N   123 ns/op ...".
func parse(line string) (string, result, bool) {
	fields := strings.Fields(line)
	if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
		return "", result{}, false
	}
	name := fields[0]
	if i := strings.LastIndex(name, "-"); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	parent, sub, ok := strings.Cut(name, "/")
	if !ok {
		return "", result{}, false
	}
	// A benchmark of sizes (Name/size=N/sub) groups its subs per size.
	if size, rest, nested := strings.Cut(sub, "/"); nested {
		parent, sub = parent+"/"+size, rest
	}
	r := result{name: sub}
	found := false
	for i := 2; i+1 < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			continue
		}
		switch fields[i+1] {
		case "ns/op":
			r.nsPerOp, found = v, true
		case "counted/op":
			r.counted, r.hasCnt = v, true
		}
	}
	return parent, r, found
}

func human(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2fs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1fµs", ns/1e3)
	}
	return fmt.Sprintf("%.0fns", ns)
}
