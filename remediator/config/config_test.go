package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const valid = `catalog:
  repository: ./catalog.git
infrastructure:
  repository: ./infra.git
  base: main
forge:
  type: local
state_dir: ./state
listen: 127.0.0.1:8080
alertmanager:
  url: http://127.0.0.1:9093
prometheus:
  url: http://127.0.0.1:9090
intake:
  bearer_token_env: REMEDIATOR_INTAKE_TOKEN
  max_body_bytes: 65536
`

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "remediator.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	p := write(t, valid)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if c.Catalog.Repository != filepath.Join(dir, "catalog.git") || c.StateDir != filepath.Join(dir, "state") {
		t.Fatalf("paths not resolved against the file: %+v", c)
	}
	if c.Catalog.Branch != "main" || c.Catalog.Directory != "catalog" || c.Intake.MaxBodyBytes != 65536 {
		t.Fatalf("defaults: %+v", c)
	}
}

// The reservation lease is 10 minutes unless set, and the one set when it is.
func TestReservationLease(t *testing.T) {
	for _, c := range []struct {
		extra string
		want  time.Duration
	}{{"", 10 * time.Minute}, {"limits:\n  max_open: 5\n", 10 * time.Minute}, {"limits:\n  reservation_lease: 45s\n", 45 * time.Second}, {"limits: {reservation_lease: 1h}\n", time.Hour}} {
		cfg, err := Load(write(t, valid+c.extra))
		if err != nil {
			t.Fatalf("%q: %v", c.extra, err)
		}
		if got := cfg.Limits.ReservationLease.Std(); got != c.want {
			t.Errorf("%q: lease %s, want %s", c.extra, got, c.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct{ name, content, want string }{
		{"unknown key", strings.Replace(valid, "  base: main", "  base: main\n  bsae: x", 1), "remediator.yaml:6:3: infrastructure.bsae: unknown field"},
		{"wrong type", strings.Replace(valid, "max_body_bytes: 65536", "max_body_bytes: lots", 1), "remediator.yaml:16:19: intake.max_body_bytes: expected an integer"},
		{"missing", strings.Replace(valid, "state_dir: ./state\n", "", 1), "state_dir: required"},
		{"forge type", strings.Replace(valid, "type: local", "type: bitbucket", 1), `remediator.yaml:7:3: forge.type: unknown forge "bitbucket": want local, github, gitea or gitlab`},
		{"github needs auth", strings.Replace(valid, "type: local", "type: github\n  owner: acme\n  repository: infra", 1), "forge.token_env: required"},
		{"secret instead of name", strings.Replace(valid, "REMEDIATOR_INTAKE_TOKEN", "s3cr3t-value-with-dashes", 1), "is not an environment variable name"},
		{"bad url", strings.Replace(valid, "http://127.0.0.1:9093", "127.0.0.1:9093", 1), "alertmanager.url: invalid URL"},
		{"team name", strings.Replace(valid, "type: local", "type: local\n  teams: {platform: [alice]}", 1), `forge.teams.platform: invalid team "platform": want org/team`},
		{"empty team", strings.Replace(valid, "type: local", "type: local\n  teams: {platform/sre: []}", 1), "forge.teams.platform/sre: no members"},
		{"check reporter without keys", strings.Replace(valid, "type: local", "type: local\n  check_reporters: [ci@example.com]", 1), "forge.check_reporters[0]: needs forge.allowed_signers_file"},
		{"every reporter on the local forge", strings.Replace(valid, "type: local", "type: local\n  allowed_signers_file: /dev/null\n  check_reporters: [\"*\"]", 1), `forge.check_reporters[0]: "*" (every reporter) is for the github forge only`},
		{"every reporter beside a named one", strings.Replace(valid, "type: local", "type: github\n  owner: acme\n  repository: infra\n  token_env: GH\n  check_reporters: [ci, \"*\"]", 1), `forge.check_reporters[1]: "*" counts every status and check run: it stands alone`},
		{"check reporter of two words", strings.Replace(valid, "type: local", "type: github\n  owner: acme\n  repository: infra\n  token_env: GH\n  check_reporters: [\"ci bot\"]", 1), `forge.check_reporters[0]: invalid reporter "ci bot"`},
		{"gitea needs its server", strings.Replace(valid, "type: local", "type: gitea\n  owner: acme\n  repository: infra\n  token_env: GT", 1), "forge.base_url: required for the gitea forge"},
		{"gitea needs a token", strings.Replace(valid, "type: local", "type: gitea\n  owner: acme\n  repository: infra\n  base_url: https://git.example.com", 1), "forge.token_env: required for the gitea forge"},
		{"gitea token from two places", strings.Replace(valid, "type: local", "type: gitea\n  owner: acme\n  repository: infra\n  base_url: https://git.example.com\n  token_env: GT\n  token_file: /run/t", 1), "forge.token_file: set token_env or token_file, not both"},
		{"gitea takes no App", strings.Replace(valid, "type: local", "type: gitea\n  owner: acme\n  repository: infra\n  base_url: https://git.example.com\n  token_env: GT\n  app_id: 1", 1), "forge: app_id, installation_id and private_key_file are GitHub App settings"},
		{"every reporter on gitea", strings.Replace(valid, "type: local", "type: gitea\n  owner: acme\n  repository: infra\n  base_url: https://git.example.com\n  token_env: GT\n  check_reporters: [\"*\"]", 1), `forge.check_reporters[0]: "*" (every reporter) is for the github forge only`},
		{"token file off gitea", strings.Replace(valid, "type: local", "type: github\n  owner: acme\n  repository: infra\n  token_env: GH\n  token_file: /run/t", 1), "forge.token_file: for the gitea and gitlab forges only"},
		{"gitlab needs its project", strings.Replace(valid, "type: local", "type: gitlab\n  token_env: GL", 1), "forge.project: required for the gitlab forge"},
		{"gitlab project twice", strings.Replace(valid, "type: local", "type: gitlab\n  project: acme/infra\n  owner: acme\n  repository: infra\n  token_env: GL", 1), "forge.project: set project, or owner and repository, not both"},
		{"gitlab project malformed", strings.Replace(valid, "type: local", "type: gitlab\n  project: /acme/infra\n  token_env: GL", 1), `forge.project: invalid project "/acme/infra"`},
		{"gitlab needs a token", strings.Replace(valid, "type: local", "type: gitlab\n  project: acme/infra", 1), "forge.token_env: required for the gitlab forge"},
		{"gitlab takes no App", strings.Replace(valid, "type: local", "type: gitlab\n  project: acme/infra\n  token_env: GL\n  app_id: 1", 1), "the gitlab forge takes a token"},
		{"gitlab's base_url is a URL", strings.Replace(valid, "type: local", "type: gitlab\n  project: acme/infra\n  token_env: GL\n  base_url: gitlab.example.com", 1), "forge.base_url"},
		{"every reporter on gitlab", strings.Replace(valid, "type: local", "type: gitlab\n  project: acme/infra\n  token_env: GL\n  check_reporters: [\"*\"]", 1), `forge.check_reporters[0]: "*" (every reporter) is for the github forge only`},
		{"project off gitlab", strings.Replace(valid, "type: local", "type: github\n  owner: acme\n  repository: infra\n  token_env: GH\n  project: acme/infra", 1), "forge.project: for the gitlab forge only"},
		{"teams on gitea", strings.Replace(valid, "type: local", "type: gitea\n  owner: acme\n  repository: infra\n  base_url: https://git.example.com\n  token_env: GT\n  teams: {platform/sre: [alice]}", 1), "forge.teams.platform/sre: teams are declared for the local forge only; on gitea"},
		{"teams on github", strings.Replace(valid, "type: local", "type: github\n  owner: acme\n  repository: infra\n  token_env: GH\n  teams: {platform/sre: [alice]}", 1), "forge.teams.platform/sre: teams are declared for the local forge only"},
		{"bad listen", strings.Replace(valid, "listen: 127.0.0.1:8080", "listen: everywhere", 1), "listen: invalid address"},
		{"lease too short", valid + "limits:\n  reservation_lease: 10s\n", "remediator.yaml:18:3: limits.reservation_lease: 10s is out of range: want 30s to 1h (default 10m)"},
		{"lease past the ledger's hour", valid + "limits:\n  reservation_lease: 2h\n", "limits.reservation_lease: 2h is out of range"},
		{"lease zero", valid + "limits:\n  reservation_lease: 0s\n", "limits.reservation_lease: 0s is out of range"},
		{"lease not a duration", valid + "limits:\n  reservation_lease: 600\n", "limits.reservation_lease"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
