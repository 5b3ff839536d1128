package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// fence is one fenced block of a guide: its language, the name after it, its text.
type fence struct {
	guide, lang, name, text string
}

var namedFenceRE = regexp.MustCompile("(?ms)^```([a-z]+)(?: ([^\\n]+))?\\n(.*?)^```$")

// guideFences reads every fenced block of the guides no test runs yet (see
// guides_test.go for the ones that run).
func guideFences(t *testing.T) []fence {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "guides", "*.md"))
	if err != nil || len(files) < 4 {
		t.Fatalf("guides: %v %v", files, err)
	}
	var out []fence
	for _, f := range files {
		if runGuides[filepath.Base(f)] {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range namedFenceRE.FindAllStringSubmatch(string(data), -1) {
			out = append(out, fence{guide: filepath.Base(f), lang: m[1], name: m[2], text: m[3]})
		}
	}
	return out
}

// commandLine checks one remediator command line of a guide against the command
// tree: the subcommand exists and takes every flag given.
func commandLine(t *testing.T, where, line string) {
	t.Helper()
	fields := strings.Fields(line)
	for len(fields) > 0 && strings.Contains(fields[0], "=") { // VAR=value prefixes
		fields = fields[1:]
	}
	if len(fields) == 0 || fields[0] != "remediator" {
		return
	}
	root := newRootCommand(nil, nil)
	cmd, args, err := root.Find(fields[1:])
	if err != nil || cmd == root {
		t.Errorf("%s: %q: no such command: %v", where, line, err)
		return
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Errorf("%s: %q: %v", where, line, err)
		return
	}
	if cmd.Args != nil {
		if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
			t.Errorf("%s: %q: %v", where, line, err)
		}
	}
}

// The guides that do not run yet cannot rot either: every configuration in them loads with the real loader
// (the remediator's, Alertmanager's amtool, the allowed-signers parser), and every
// command line names a real command with real flags. Their HCL is validated by
// terraform in the provider's tests (TestGuidesHCL).
func TestGuidesNotRunYet(t *testing.T) {
	checked := map[string]int{}
	fences := guideFences(t)
	// The guides' files under /etc/remediator/ live in a temporary directory here:
	// the allowed-signers file is the guide's own.
	etc := t.TempDir()
	for _, f := range fences {
		if f.name == "allowed_signers" {
			writeFile(t, filepath.Join(etc, "allowed_signers"), f.text)
		}
	}
	for _, f := range fences {
		where := f.guide + " " + f.lang + " " + f.name
		switch {
		case f.lang == "yaml" && f.name == "remediator.yaml":
			file := filepath.Join(t.TempDir(), "remediator.yaml")
			writeFile(t, file, strings.ReplaceAll(f.text, "/etc/remediator/", etc+"/"))
			if _, err := config.Load(file); err != nil {
				t.Errorf("%s: %v", where, err)
			}
		case f.lang == "yaml" && f.name == "alertmanager.yml":
			if _, err := exec.LookPath("amtool"); err != nil {
				t.Fatal("amtool is not installed (Debian's prometheus-alertmanager; .ci/run installs it)")
			}
			file := filepath.Join(t.TempDir(), "alertmanager.yml")
			writeFile(t, file, f.text)
			if out, err := exec.Command("amtool", "check-config", file).CombinedOutput(); err != nil {
				t.Errorf("%s: amtool: %v\n%s", where, err, out)
			}
		case f.lang == "text" && f.name == "allowed_signers":
			file := filepath.Join(t.TempDir(), "allowed_signers")
			writeFile(t, file, f.text)
			as, err := signing.LoadAllowedSigners(file)
			if err != nil || len(as.Signers) == 0 {
				t.Errorf("%s: %v", where, err)
			}
		case f.lang == "text" && f.name == "crontab":
			for _, line := range strings.Split(strings.TrimSpace(f.text), "\n") {
				fields := strings.Fields(line)
				if len(fields) < 6 {
					t.Errorf("%s: %q is no crontab line", where, line)
					continue
				}
				commandLine(t, where, strings.Join(fields[5:], " "))
			}
		case f.lang == "sh":
			for _, line := range strings.Split(strings.TrimSpace(f.text), "\n") {
				commandLine(t, where, line)
			}
		case f.lang == "hcl" || f.lang == "text":
			continue // HCL: TestGuidesHCL
		default:
			t.Errorf("%s: a block no test checks; name what it is (```yaml remediator.yaml, ```sh, ...)", where)
			continue
		}
		checked[f.lang+" "+f.name]++
	}
	for _, want := range []string{"yaml remediator.yaml", "yaml alertmanager.yml", "sh "} {
		if checked[want] == 0 {
			t.Errorf("no %q block was checked", want)
		}
	}
}

// The plain-Git guide runs as written: its configuration, with the guide's server
// and files replaced by local ones, and its commands in order, from proposing to the
// audit, each exiting 0. (Its plan-check line needs a plan of a checkout: the CI
// examples' tests run plan-check the same way.)
