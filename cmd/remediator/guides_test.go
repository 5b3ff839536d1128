package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittest"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
)

// fence is one fenced block of a guide: its language, the name after it, its text.
type fence struct {
	guide, lang, name, text string
}

var fenceRE = regexp.MustCompile("(?ms)^```([a-z]+)(?: ([^\\n]+))?\\n(.*?)^```$")

// guideFences reads every fenced block of the guides.
func guideFences(t *testing.T) []fence {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "guides", "*.md"))
	if err != nil || len(files) < 4 {
		t.Fatalf("guides: %v %v", files, err)
	}
	var out []fence
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fenceRE.FindAllStringSubmatch(string(data), -1) {
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

// The guides cannot rot: every configuration in them loads with the real loader
// (the remediator's, Alertmanager's amtool, the allowed-signers parser), and every
// command line names a real command with real flags. Their HCL is validated by
// terraform in the provider's tests (TestGuidesHCL).
func TestGuides(t *testing.T) {
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
	for _, want := range []string{"yaml remediator.yaml", "yaml alertmanager.yml", "text allowed_signers", "text crontab", "sh "} {
		if checked[want] == 0 {
			t.Errorf("no %q block was checked", want)
		}
	}
}

// The plain-Git guide runs as written: its configuration, with the guide's server
// and files replaced by local ones, and its commands in order, from proposing to the
// audit, each exiting 0. (Its plan-check line needs a plan of a checkout: the CI
// examples' tests run plan-check the same way.)
func TestPlainGitGuideRuns(t *testing.T) {
	var cfgText string
	var commands []string
	for _, f := range guideFences(t) {
		if f.guide != "getting-started-git.md" {
			continue
		}
		switch {
		case f.name == "remediator.yaml":
			cfgText = f.text
		case f.lang == "sh":
			commands = append(commands, strings.Split(strings.TrimSpace(f.text), "\n")...)
		}
	}
	if cfgText == "" || len(commands) < 8 {
		t.Fatalf("config %q, %d commands", cfgText, len(commands))
	}
	// A published catalog and an infrastructure repository, as the other tests make.
	local := publishedCatalog(t)
	infra := infraRepo(t, local)
	dir := filepath.Dir(local)
	etc := t.TempDir()
	data, err := os.ReadFile(filepath.Join(dir, "allowed_signers"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(etc, "allowed_signers"), string(data))
	if err := signing.GenerateKeyFile(filepath.Join(etc, "signing_key")); err != nil {
		t.Fatal(err)
	}
	replace := strings.NewReplacer(
		"ssh://git@git.example.com/platform/remediation-catalog.git", filepath.Join(dir, "catalog.git"),
		"ssh://git@git.example.com/platform/infra.git", infra,
		"/etc/remediator/", etc+"/",
		"/var/lib/remediator", filepath.Join(t.TempDir(), "state"),
	)
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "remediator.yaml"), replace.Replace(cfgText))
	writeFile(t, filepath.Join(work, "alert.json"), alert("api-gateway"))
	t.Chdir(work)
	id := decision.ID("scale-out-api", "service=api-gateway")
	ran := 0
	for _, line := range commands {
		if strings.HasPrefix(line, "remediator plan-check") {
			continue
		}
		line = strings.NewReplacer("scale-out-api-0123456789", id, "~/.ssh/id_ed25519", keyOf(local, "dana"), "~/.ssh/ci_ed25519", keyOf(local, "ci")).Replace(replace.Replace(line))
		if strings.Contains(line, "0123456789abcdef0123456789abcdef01234567") {
			line = strings.ReplaceAll(line, "0123456789abcdef0123456789abcdef01234567", gittest.Run(t, infra, "rev-parse", "main"))
		}
		args := strings.Fields(line)[1:]
		code, out, errs := cli(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", line, code, out, errs)
		}
		ran++
	}
	if !strings.Contains(gittest.Run(t, infra, "log", "-1", "--format=%B", "main"), "Remediation-Id: "+id) {
		t.Fatal("the guide's commands did not merge the remediation")
	}
	if ran < 8 {
		t.Fatalf("ran %d commands", ran)
	}
}
