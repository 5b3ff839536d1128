package runbooks

import (
	"path"
	"testing"
)

func TestAddressPatterns(t *testing.T) {
	cases := []struct {
		pattern, addr string
		want          bool
	}{
		{"aws_instance.worker", "aws_instance.worker", true},
		{"aws_instance.worker", "aws_instance.worker[0]", true},
		{"aws_instance.worker[*]", "aws_instance.worker[3]", true},
		{"aws_instance.worker[*]", `aws_instance.worker["a"]`, true},
		{"aws_instance.worker[*]", "aws_instance.worker", false},
		{"aws_instance.worker[0]", "aws_instance.worker[0]", true},
		{"aws_instance.worker[0]", "aws_instance.worker[1]", false},
		{"aws_instance.worker[0]", "aws_instance.worker0", false},
		{`aws_instance.web["eu.west"]`, `aws_instance.web["eu.west"]`, true},
		{`aws_instance.web["eu.west"]`, `aws_instance.web["eu"]`, false},
		{"module.db[0].aws_db_instance.*", "module.db[0].aws_db_instance.main", true},
		{"module.db[0].aws_db_instance.*", "module.db[1].aws_db_instance.main", false},
		{"module.db.aws_db_instance.main", `module.db["eu"].aws_db_instance.main`, true},
		{"module.*.aws_instance.*", "module.app.aws_instance.web", true},
		{"module.*.aws_instance.*", "module.a.module.b.aws_instance.web", false},
		{"**.aws_instance.web", "aws_instance.web", true},
		{"**.aws_instance.web", `module.a[0].module.b["x"].aws_instance.web[2]`, true},
		{"**.aws_instance.web", "module.a.aws_instance.other", false},
		{"aws_*.web", "aws_instance.web", true},
		{"aws_*.web", "google_compute_instance.web", false},
		{"*.*", "aws_instance.web", true},
		{"*.*", "module.x.aws_instance.web", false},
		{"data.aws_ami.*", "data.aws_ami.ubuntu", true},
		{"aws_instance.*", "data.aws_instance.x", false},
	}
	for _, c := range cases {
		p, err := ParseAddressPattern(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if got := p.MatchAddress(c.addr); got != c.want {
			t.Errorf("%s ~ %s = %v, want %v", c.pattern, c.addr, got, c.want)
		}
	}
	for _, bad := range []string{"", " aws_instance.x", "aws_instance.x[", "aws_instance.x[a]", `aws_instance.x["a]`, "aws_instance..x", "**[0].x", "aws_instance.x[0]y", "[0].x", "aws_[.x"} {
		if _, err := ParseAddressPattern(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzAddressPattern(f *testing.F) {
	f.Add("module.db[0].aws_db_instance.*", `module.db[0].aws_db_instance.main`)
	f.Add(`**.aws_instance.web["a.b"]`, `module.x["y"].aws_instance.web["a.b"]`)
	f.Add("aws_instance.worker[*]", "aws_instance.worker[10]")
	f.Fuzz(func(t *testing.T, pattern, addr string) {
		p, err := ParseAddressPattern(pattern)
		if err != nil {
			return
		}
		_ = p.MatchAddress(addr)
		// An address is a pattern matching itself.
		if _, err := splitAddress(nil, addr, false); err == nil {
			if self, err := ParseAddressPattern(addr); err == nil && !self.MatchAddress(addr) {
				t.Fatalf("%q does not match itself", addr)
			}
		}
	})
}

// FuzzMatchGlob holds the prefix shortcut to path.Match, for resource types and
// address steps alike.
func FuzzMatchGlob(f *testing.F) {
	f.Add("aws_iam_*", "aws_iam_role")
	f.Add("web*", "web/1")
	f.Add(`a\*`, "a*")
	f.Add("*", "")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		ok, err := path.Match(pattern, name)
		if want := err == nil && ok; matchGlob(pattern, name) != want {
			t.Fatalf("matchGlob(%q, %q) = %v, path.Match says %v", pattern, name, !want, want)
		}
	})
}
