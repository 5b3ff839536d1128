package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const goodRunbook = `apiVersion: remediation.gitops.dev/v1
kind: Runbook
metadata:
  name: scale-out-api
spec:
  risk: low
  trigger:
    matchers: ['alertname="HighLatency"']
  changes:
    - kind: hcl
      file: envs/prod/api.auto.tfvars
      path: replicas
      value: current + 1
`

func TestCatalogValidate(t *testing.T) {
	cases := []struct {
		name     string
		files    map[string]string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{
			name:     "valid",
			files:    map[string]string{"catalog/runbooks/scale-out-api.yaml": goodRunbook},
			wantCode: 0, wantOut: "is valid: 1 runbook(s), 0 polic(ies)",
		},
		{
			name:     "unknown field names file, line and field",
			files:    map[string]string{"catalog/runbooks/scale-out-api.yaml": goodRunbook + "  cooldwn: 1h\n"},
			wantCode: 2, wantErr: "catalog/runbooks/scale-out-api.yaml:14:3: spec.cooldwn: unknown field",
		},
		{
			name:     "name must match file",
			files:    map[string]string{"catalog/runbooks/other.yaml": goodRunbook},
			wantCode: 2, wantErr: `catalog/runbooks/other.yaml: metadata.name: "scale-out-api" does not match the file name`,
		},
		{
			name:     "policy in runbooks directory",
			files:    map[string]string{"catalog/runbooks/p.yaml": "apiVersion: remediation.gitops.dev/v1\nkind: Policy\nmetadata: {name: p}\nspec: {}\n"},
			wantCode: 2, wantErr: "a Policy in the runbooks directory",
		},
		{name: "bad usage", args: []string{"--bogus"}, wantCode: 2, wantErr: "unknown flag"},
		{name: "missing directory", args: []string{"/nonexistent/x"}, wantCode: 2, wantErr: "is not a directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, c := range tc.files {
				writeFile(t, filepath.Join(dir, p), c)
			}
			args := append([]string{"catalog", "validate"}, tc.args...)
			if tc.args == nil {
				args = append(args, dir)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), args, &out, &errb)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) || !strings.Contains(errb.String(), tc.wantErr) {
				t.Fatalf("stdout: %s\nstderr: %s\nwant %q / %q", out.String(), errb.String(), tc.wantOut, tc.wantErr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &out); code != 0 || !strings.HasPrefix(out.String(), "remediator ") {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if code := run(context.Background(), []string{"nope"}, &out, &out); code != 2 {
		t.Fatalf("unknown command exit %d, want 2", code)
	}
}

// --version (the root flag, as cobra has it) prints what the version command prints.
func TestVersionFlag(t *testing.T) {
	code, flag, _ := cli(t, "--version")
	if code != 0 {
		t.Fatalf("--version: exit %d", code)
	}
	_, cmd, _ := cli(t, "version")
	if flag != cmd || flag != "remediator dev (commit none)\n" {
		t.Fatalf("--version printed %q, the version command %q", flag, cmd)
	}
}

// The error a command ends with is a log line like the others: JSON when the logs
// are (asked for with --log-format json, or serve's default), text otherwise.
func TestFinalErrorFollowsLogFormat(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	tests := []struct {
		name string
		args []string
		json bool
	}{
		{"text by default", []string{"reconcile", "--config", missing}, false},
		{"json when asked", []string{"reconcile", "--config", missing, "--log-format", "json"}, true},
		{"serve is json by default", []string{"serve", "--config", missing}, true},
		{"serve as text when asked", []string{"serve", "--config", missing, "--log-format", "text"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := cli(t, tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2: %s", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			last := lines[len(lines)-1]
			if !tt.json {
				if !strings.HasPrefix(last, "error: ") || !strings.Contains(last, "missing.yaml") {
					t.Fatalf("last line %q, want a plain error naming the file", last)
				}
				return
			}
			var rec struct {
				Level    string `json:"level"`
				Err      string `json:"err"`
				ExitCode int    `json:"exit_code"`
			}
			if err := json.Unmarshal([]byte(last), &rec); err != nil {
				t.Fatalf("last line %q is not JSON: %v", last, err)
			}
			if rec.Level != "ERROR" || !strings.Contains(rec.Err, "missing.yaml") || rec.ExitCode != 2 {
				t.Fatalf("last line %+v, want an ERROR naming the file with exit code 2", rec)
			}
		})
	}
}

// Exit codes: 0 ok, 1 a check failed, 2 bad usage or input, 3 a runtime failure.
func TestExitCodes(t *testing.T) {
	cfg := publishedCatalog(t)
	// No infrastructure repository where the configuration says: Git fails.
	code, _, errs := proposeRun(t, cfg, alert("api-gateway"))
	if code != 3 {
		t.Fatalf("a repository that cannot be read: exit %d, want 3: %s", code, errs)
	}
	for _, args := range [][]string{{"propose", "--no-such-flag"}, {"no-such-command"}, {"reconcile", "--config", filepath.Join(t.TempDir(), "missing.yaml")}} {
		if code, _, errs := cli(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errs)
		}
	}
	if code, out, _ := cli(t, "--help"); code != 0 || !strings.Contains(out, "3 a runtime failure") {
		t.Fatalf("--help does not document the exit codes: %d %s", code, out)
	}
}

// --log-format and --log-level shape every command's logs; a value they do not
// know is bad usage.
func TestLogFlags(t *testing.T) {
	cfg := publishedCatalog(t)
	infraRepo(t, cfg)
	code, _, errs := proposeRun(t, cfg, alert("api-gateway"), "--log-format", "json", "--log-level", "debug")
	if code != 0 {
		t.Fatalf("propose: %d %s", code, errs)
	}
	about := 0
	for _, line := range strings.Split(strings.TrimSpace(errs), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Fatalf("not a JSON line: %q", line)
		}
		if strings.Contains(line, `"remediation_id":"scale-out-api-`) && strings.Contains(line, `"runbook":"scale-out-api"`) {
			about++
		}
	}
	if about == 0 {
		t.Fatalf("no line names the remediation and its runbook:\n%s", errs)
	}
	for _, bad := range [][]string{{"--log-format", "xml"}, {"--log-level", "loud"}} {
		if code, _, errs := cli(t, append([]string{"reconcile", "--config", cfg}, bad...)...); code != 2 || !strings.Contains(errs, bad[0]) {
			t.Errorf("%v: %d %s", bad, code, errs)
		}
	}
}
