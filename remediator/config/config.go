// Package config reads the remediator's configuration file: strict YAML whose errors
// name the key and line. Secrets never appear in it: it names the environment
// variables that hold them.
package config

//go:generate go run ../../internal/configdoc/gen -root ../..

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/strictyaml"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/bounds"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// Config is the whole file.
type Config struct {
	Catalog        Catalog        `yaml:"catalog"`
	Infrastructure Infrastructure `yaml:"infrastructure"`
	Forge          Forge          `yaml:"forge"`
	// StateDir is the replica's own directory: the intake queue and dead letters,
	// the repository mirror, and the signing key when signing.key_file is unset.
	// Give each replica a volume of its own.
	StateDir string `yaml:"state_dir"`
	// Listen is the host:port serve answers on: the intake, webhooks, /metrics,
	// the probes and the status page.
	Listen       string       `yaml:"listen"`
	Alertmanager Alertmanager `yaml:"alertmanager"`
	// Prometheus is queried by the verifier after a merge, for a runbook's
	// verify.promql.
	Prometheus Endpoint `yaml:"prometheus"`
	Intake     Intake   `yaml:"intake"`
	Signing    Signing  `yaml:"signing"`
	Limits     Limits   `yaml:"limits"`
	Status     Status   `yaml:"status"`
	Notify     Notify   `yaml:"notify"`
}

// Status configures the status page serve shows at /.
type Status struct {
	// BearerTokenEnv names the variable holding the token the page requires; unset,
	// the page is open to whoever reaches the listen address (it is read only and
	// shows no secret, but it shows what is remediated).
	BearerTokenEnv string `yaml:"bearer_token_env"`
}

// Limits bound proposals over every policy, so an alert storm never becomes a pull
// request storm, even under a policy that sets no limits. 0 is no bound.
type Limits struct {
	// MaxOpen bounds the proposals open at once.
	MaxOpen int `yaml:"max_open"`
	// PerHour bounds the proposals opened in any hour.
	PerHour int `yaml:"per_hour"`
	// MaxOpenPerRunbook bounds the proposals of one runbook open at once.
	MaxOpenPerRunbook int `yaml:"max_open_per_runbook"`
	// PerHourPerRunbook bounds the proposals of one runbook opened in any hour.
	PerHourPerRunbook int `yaml:"per_hour_per_runbook"`
	// ReservationLease is how long a proposal's reservation holds its slot under
	// the open limits before the forge lists the proposal: replicas count each
	// other's proposals by it, and a replica that died between pushing a branch and
	// opening its pull request holds the slot this long. Keep it well above the time
	// from a push to the pull request on a busy forge (retries included): a live
	// replica that outlasts it may see its slot taken, and a bound exceeded by one.
	// From 30s to 1h; every replica must use the same value.
	ReservationLease runbooks.Duration `yaml:"reservation_lease"`
}

// DefaultLimits are conservative: a team reviews a handful of proposals at a time.
var DefaultLimits = Limits{MaxOpen: 20, PerHour: 30, MaxOpenPerRunbook: 10, PerHourPerRunbook: 10,
	ReservationLease: runbooks.Duration(bounds.DefaultLease)}

// Signing is the remediator's own key: it signs every proposal and merge commit the
// remediator makes, and its record of GitHub reviews, so its own work can be told
// from anyone else's (the rule "the remediator merges only its own tree").
type Signing struct {
	// KeyFile is an unencrypted OpenSSH private key. Unset, a key is created in
	// state_dir on first use: fine for one process, but replicas that merge each
	// other's proposals must share one configured key.
	KeyFile string `yaml:"key_file"`
}

// SigningKeyFile is the key file in use: the configured one, or state_dir's own.
func (c *Config) SigningKeyFile() string {
	if c.Signing.KeyFile != "" {
		return c.Signing.KeyFile
	}
	return filepath.Join(c.StateDir, "signing_key")
}

// Catalog is where the runbooks and policies are published.
type Catalog struct {
	// Repository is the catalog repository's path or URL (https, ssh or scp-like),
	// where `terraform apply` of the provider publishes.
	Repository string `yaml:"repository"`
	// Branch is the branch the catalog is read from.
	Branch string `yaml:"branch"`
	// Directory is the directory in the branch that holds the catalog.
	Directory string `yaml:"directory"`
	// TokenEnv names the variable holding an https token for the catalog repository.
	TokenEnv string `yaml:"token_env"`
}

// Infrastructure is the infrastructure-as-code repository remediations change.
type Infrastructure struct {
	// Repository is the infrastructure repository's path or URL, where proposals
	// are pushed.
	Repository string `yaml:"repository"`
	// Base is the branch proposals are made against and merged into.
	Base string `yaml:"base"`
	// TokenEnv names the variable holding an https token for the infrastructure
	// repository.
	TokenEnv string `yaml:"token_env"`
	// AuthorName is the author and committer name of the remediator's commits.
	AuthorName string `yaml:"author_name"`
	// AuthorEmail is the author and committer email of the remediator's commits.
	AuthorEmail string `yaml:"author_email"`
}

// Forge types.
const (
	ForgeLocal  = "local"
	ForgeGitHub = "github"
	// ForgeGitea is Gitea, and Forgejo, which shares its API.
	ForgeGitea = "gitea"
	// ForgeGitLab is GitLab, SaaS or self-managed.
	ForgeGitLab = "gitlab"
)

// DefaultGitLabURL is where the gitlab forge goes without forge.base_url.
const DefaultGitLabURL = "https://gitlab.com"

// Forge is where proposals are opened.
type Forge struct {
	// Type is the kind of forge: local (proposal branches, signed approvals and records in Git itself),
	// github or gitea (pull requests; gitea serves Forgejo too), or gitlab (merge requests).
	Type string `yaml:"type"`
	// Owner is the organisation or user owning the repository (github and gitea).
	Owner string `yaml:"owner"`
	// Repository is the repository's name (github and gitea).
	Repository string `yaml:"repository"`
	// Project is the GitLab project's full path, e.g. platform/infra (gitlab only; or
	// its numeric id). Unset, owner/repository is the path.
	Project string `yaml:"project"`
	// BaseURL is the forge's address: GitHub Enterprise Server's (unset, github.com),
	// the Gitea or Forgejo server's (required for gitea), e.g. https://git.example.com,
	// or a self-managed GitLab's (unset, https://gitlab.com).
	BaseURL string `yaml:"base_url"`
	// TokenEnv names the variable holding the forge token (github: or a GitHub App's
	// app_id, installation_id and private_key_file; gitea: or token_file). On Gitea the
	// token's account is the remediator's: it opens the pull requests and must
	// administer the repository (to read reviewers' permissions).
	TokenEnv string `yaml:"token_env"`
	// TokenFile is a file holding the forge token, such as a mounted secret (gitea
	// and gitlab only; instead of token_env). On GitLab the token's user (or a project
	// access token's bot) is the remediator's: it opens the merge requests and needs
	// the api scope and developer access or more.
	TokenFile string `yaml:"token_file"`
	// AppID is the GitHub App's id, for App authentication instead of a token.
	AppID int `yaml:"app_id"`
	// InstallationID is the GitHub App installation's id on the owner.
	InstallationID int `yaml:"installation_id"`
	// PrivateKeyFile is the GitHub App's private key (PEM).
	PrivateKeyFile string `yaml:"private_key_file"`
	// WebhookSecretEnv names the variable holding the webhook secret, which enables
	// the forge's webhook: POST /v1/github, POST /v1/gitea, or POST /v1/gitlab (GitLab
	// sends the secret token as X-Gitlab-Token).
	WebhookSecretEnv string `yaml:"webhook_secret_env"`
	// Teams lists the members of each "org/team" a policy requires, for the local
	// forge only: a plain Git server has no organisation to ask (GitHub is asked).
	// Members are principals of the allowed-signers file.
	Teams map[string][]string `yaml:"teams"`
	// AllowedSignersFile lists the reviewers' SSH keys and their principals, in Git's
	// gpg.ssh.allowedSignersFile format: on the local forge an approval counts only
	// when signed by a key listed there for the principal it names.
	AllowedSignersFile string `yaml:"allowed_signers_file"`
	// CheckReporters are who may report checks. On the local forge: principals of
	// the allowed-signers file whose signed reports count (CI's, which runs
	// `remediator applied` and `plan-check --comment` with its own key); none, and no
	// report counts. On GitHub: the logins whose commit statuses and the Apps (by
	// slug) whose check runs count; none, and none counts either (checks fail
	// closed). ["*"] counts every status and check run, as GitHub itself does
	// (anyone with write access can set a status): an explicit choice, GitHub only.
	// A reporter never approves.
	CheckReporters []string `yaml:"check_reporters"`
}

// Endpoint is an HTTP API the remediator queries.
type Endpoint struct {
	// URL is the API's address: http(s)://host[:port].
	URL string `yaml:"url"`
}

// Alertmanager is the Alertmanager the remediator asks about alerts.
type Alertmanager struct {
	// URL is Alertmanager's address, http(s)://host[:port]: after a merge the
	// verifier asks it whether the anomaly's alert still fires (a runbook's
	// verify.alert_resolved). With neither this nor prometheus.url, no remediation
	// is verified.
	URL string `yaml:"url"`
	// RestartGrace is how long after Alertmanager starts its silence about an alert
	// proves nothing (Prometheus resends firing alerts about once a minute), so a
	// proposal is not closed as resolved on the word of an Alertmanager that just
	// lost its state.
	RestartGrace runbooks.Duration `yaml:"restart_grace"`
}

// DefaultRestartGrace is RestartGrace unless configured.
const DefaultRestartGrace = 5 * time.Minute

// Intake bounds and authenticates incoming anomalies.
type Intake struct {
	// BearerTokenEnv names the variable holding the token Alertmanager's webhook
	// must send (Authorization: Bearer); unset, the intake takes anomalies from
	// anyone who reaches the listen address.
	BearerTokenEnv string `yaml:"bearer_token_env"`
	// MaxBodyBytes bounds one request's body; a larger one is refused with 413.
	MaxBodyBytes int `yaml:"max_body_bytes"`
	// MaxQueued bounds the anomalies waiting in the queue; past it the intake answers
	// 429 with Retry-After (Alertmanager retries) and memory stays bounded.
	MaxQueued int `yaml:"max_queued"`
}

// DefaultMaxQueued is Intake.MaxQueued unless configured.
const DefaultMaxQueued = 10000

// MaxFileBytes bounds the configuration file.
const MaxFileBytes = 1 << 20

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Default is the configuration before the file is read: what an unset key means.
// The generated reference (docs/remediator-config.md) and JSON Schema print these
// defaults, so they are written here once.
func Default() *Config {
	return &Config{
		Catalog:        Catalog{Branch: catalogstore.DefaultBranch, Directory: catalogstore.DefaultDirectory},
		Infrastructure: Infrastructure{Base: "main", AuthorName: "remediator", AuthorEmail: "remediator@localhost"},
		Forge:          Forge{Type: ForgeLocal},
		Listen:         "127.0.0.1:8080",
		Intake:         Intake{MaxBodyBytes: 1 << 20, MaxQueued: DefaultMaxQueued},
		Limits:         DefaultLimits,
		Alertmanager:   Alertmanager{RestartGrace: runbooks.Duration(DefaultRestartGrace)},
	}
}

// Load reads and validates a configuration file. Relative paths in it are taken
// relative to the file's directory.
func Load(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c := Default()
	pos, err := strictyaml.Decode(file, data, c, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	errs := c.validate()
	for _, e := range errs {
		e.File = file
		e.Line, e.Column = pos.Lookup(e.Field)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	c.resolvePaths(filepath.Dir(file))
	if c.Forge.AllowedSignersFile != "" {
		// Checked now, so a typo in a key stops the start, not the first approval.
		if _, err := signing.LoadAllowedSigners(c.Forge.AllowedSignersFile); err != nil {
			e := &strictyaml.Error{File: file, Field: "forge.allowed_signers_file", Msg: err.Error()}
			e.Line, e.Column = pos.Lookup(e.Field)
			return nil, strictyaml.Errors{e}
		}
	}
	return c, nil
}

func (c *Config) validate() strictyaml.Errors {
	var errs strictyaml.Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, &strictyaml.Error{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Catalog.Repository == "" {
		add("catalog.repository", "required: path or URL of the catalog repository")
	}
	if c.Infrastructure.Repository == "" {
		add("infrastructure.repository", "required: path or URL of the infrastructure repository")
	}
	if c.StateDir == "" {
		add("state_dir", "required: a directory for the intake queue and the repository mirror")
	}
	for field, v := range map[string]string{"catalog.token_env": c.Catalog.TokenEnv, "infrastructure.token_env": c.Infrastructure.TokenEnv,
		"forge.token_env": c.Forge.TokenEnv, "intake.bearer_token_env": c.Intake.BearerTokenEnv, "forge.webhook_secret_env": c.Forge.WebhookSecretEnv,
		"status.bearer_token_env": c.Status.BearerTokenEnv} {
		if v != "" && !envNameRE.MatchString(v) {
			add(field, "%q is not an environment variable name: name the variable that holds the secret, never the secret", v)
		}
	}
	c.validateForge(add)
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen", "invalid address %q: want host:port, such as 127.0.0.1:8080", c.Listen)
	}
	if c.Alertmanager.URL != "" {
		checkURL(add, "alertmanager.url", c.Alertmanager.URL)
	}
	if c.Alertmanager.RestartGrace < 0 {
		add("alertmanager.restart_grace", "must be 0 or more")
	}
	if c.Prometheus.URL != "" {
		checkURL(add, "prometheus.url", c.Prometheus.URL)
	}
	if c.Intake.MaxBodyBytes <= 0 {
		add("intake.max_body_bytes", "must be positive")
	}
	if c.Intake.MaxQueued <= 0 {
		add("intake.max_queued", "must be positive: the queue is bounded")
	}
	for field, v := range map[string]int{"limits.max_open": c.Limits.MaxOpen, "limits.per_hour": c.Limits.PerHour,
		"limits.max_open_per_runbook": c.Limits.MaxOpenPerRunbook, "limits.per_hour_per_runbook": c.Limits.PerHourPerRunbook} {
		if v < 0 {
			add(field, "must be 0 (no bound) or more")
		}
	}
	if l := c.Limits.ReservationLease.Std(); l < bounds.MinLease || l > bounds.Window {
		add("limits.reservation_lease", "%s is out of range: want %s to %s (default %s)", c.Limits.ReservationLease,
			runbooks.Duration(bounds.MinLease), runbooks.Duration(bounds.Window), runbooks.Duration(bounds.DefaultLease))
	}
	c.validateNotify(add)
	sortErrors(errs)
	return errs
}

// validateForge checks the forge section: its type, what that type needs, the
// check reporters and the teams.
func (c *Config) validateForge(add func(field, format string, args ...any)) {
	switch c.Forge.Type {
	case ForgeLocal:
	case ForgeGitHub:
		if c.Forge.Owner == "" {
			add("forge.owner", "required for the github forge")
		}
		if c.Forge.Repository == "" {
			add("forge.repository", "required for the github forge")
		}
		app := c.Forge.AppID != 0 || c.Forge.InstallationID != 0 || c.Forge.PrivateKeyFile != ""
		switch {
		case app && (c.Forge.AppID <= 0 || c.Forge.InstallationID <= 0 || c.Forge.PrivateKeyFile == ""):
			add("forge", "GitHub App auth needs app_id, installation_id and private_key_file")
		case !app && c.Forge.TokenEnv == "":
			add("forge.token_env", "required for the github forge, or GitHub App app_id, installation_id and private_key_file")
		}
		if c.Forge.BaseURL != "" {
			checkURL(add, "forge.base_url", c.Forge.BaseURL)
		}
	case ForgeGitea:
		c.validateGitea(add)
	case ForgeGitLab:
		c.validateGitLab(add)
	default:
		add("forge.type", "unknown forge %q: want local, github, gitea or gitlab", c.Forge.Type)
	}
	if c.Forge.TokenFile != "" && c.Forge.Type != ForgeGitea && c.Forge.Type != ForgeGitLab {
		add("forge.token_file", "for the gitea and gitlab forges only")
	}
	if c.Forge.Project != "" && c.Forge.Type != ForgeGitLab {
		add("forge.project", "for the gitlab forge only (on %s: owner and repository)", c.Forge.Type)
	}
	for i, p := range c.Forge.CheckReporters {
		field := fmt.Sprintf("forge.check_reporters[%d]", i)
		switch {
		case p == AnyReporter && c.Forge.Type != ForgeGitHub:
			add(field, `"*" (every reporter) is for the github forge only: on the local forge a report counts only when a listed reporter's key signed it`)
		case p == AnyReporter && len(c.Forge.CheckReporters) > 1:
			add(field, `"*" counts every status and check run: it stands alone, not beside named reporters`)
		case strings.TrimSpace(p) == "" || strings.ContainsAny(p, " \t"):
			add(field, "invalid reporter %q: want one word (a principal of the allowed-signers file; on GitHub a login or an App's slug)", p)
		case c.Forge.Type == ForgeLocal && c.Forge.AllowedSignersFile == "":
			add(field, "needs forge.allowed_signers_file, which lists the reporter's key")
		}
	}
	for team, members := range c.Forge.Teams {
		field := "forge.teams." + team
		switch {
		case c.Forge.Type != ForgeLocal:
			add(field, "teams are declared for the local forge only; on %s the team's membership is asked", c.Forge.Type)
		case !teamRE.MatchString(team):
			add(field, "invalid team %q: want org/team, as in a policy's required_reviewers", team)
		case len(members) == 0:
			add(field, "no members: a team nobody is in can never approve")
		}
	}
}

// validateGitea checks what the gitea forge needs: where, which repository, and a
// token from one place.
func (c *Config) validateGitea(add func(field, format string, args ...any)) {
	if c.Forge.Owner == "" {
		add("forge.owner", "required for the gitea forge")
	}
	if c.Forge.Repository == "" {
		add("forge.repository", "required for the gitea forge")
	}
	if c.Forge.BaseURL == "" {
		add("forge.base_url", "required for the gitea forge: the server's address, e.g. https://git.example.com")
	} else {
		checkURL(add, "forge.base_url", c.Forge.BaseURL)
	}
	c.validateToken(add)
}

// validateGitLab checks what the gitlab forge needs: which project (its path, or
// owner/repository), where (gitlab.com unless base_url says), and a token from one
// place.
func (c *Config) validateGitLab(add func(field, format string, args ...any)) {
	switch {
	case c.Forge.Project == "" && (c.Forge.Owner == "" || c.Forge.Repository == ""):
		add("forge.project", "required for the gitlab forge: the project's full path, e.g. platform/infra (or owner and repository)")
	case c.Forge.Project != "" && (c.Forge.Owner != "" || c.Forge.Repository != ""):
		add("forge.project", "set project, or owner and repository, not both")
	case strings.Trim(c.GitLabProject(), "/") != c.GitLabProject() || strings.Contains(c.GitLabProject(), "//") || strings.ContainsAny(c.GitLabProject(), " \t?#%"):
		add("forge.project", "invalid project %q: want group/name or a numeric id", c.GitLabProject())
	}
	if c.Forge.BaseURL != "" {
		checkURL(add, "forge.base_url", c.Forge.BaseURL)
	}
	c.validateToken(add)
}

// GitLabProject is the gitlab forge's project: forge.project, else owner/repository.
func (c *Config) GitLabProject() string {
	if c.Forge.Project != "" {
		return c.Forge.Project
	}
	return c.Forge.Owner + "/" + c.Forge.Repository
}

// validateToken checks a token forge (gitea, gitlab) has its token from one place,
// and no GitHub App settings.
func (c *Config) validateToken(add func(field, format string, args ...any)) {
	switch {
	case c.Forge.TokenEnv == "" && c.Forge.TokenFile == "":
		add("forge.token_env", "required for the %s forge (or forge.token_file)", c.Forge.Type)
	case c.Forge.TokenEnv != "" && c.Forge.TokenFile != "":
		add("forge.token_file", "set token_env or token_file, not both")
	}
	if c.Forge.AppID != 0 || c.Forge.InstallationID != 0 || c.Forge.PrivateKeyFile != "" {
		add("forge", "app_id, installation_id and private_key_file are GitHub App settings: the %s forge takes a token", c.Forge.Type)
	}
}

// AnyReporter in forge.check_reporters counts every commit status and check run on
// GitHub, as GitHub itself does: the operator's explicit choice, never the default.
const AnyReporter = "*"

var teamRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)

func checkURL(add func(string, string, ...any), field, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add(field, "invalid URL %q: want http(s)://host[:port]", raw)
	}
}

func sortErrors(errs strictyaml.Errors) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
}

// resolvePaths makes local paths relative to the config file absolute. URLs and
// scp-like addresses are left alone.
func (c *Config) resolvePaths(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || strings.Contains(p, "://") || (strings.Contains(p, "@") && strings.Contains(p, ":")) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.Catalog.Repository = abs(c.Catalog.Repository)
	c.Infrastructure.Repository = abs(c.Infrastructure.Repository)
	c.StateDir = abs(c.StateDir)
	c.Forge.PrivateKeyFile = abs(c.Forge.PrivateKeyFile)
	c.Forge.AllowedSignersFile = abs(c.Forge.AllowedSignersFile)
	c.Signing.KeyFile = abs(c.Signing.KeyFile)
}

// Secret reads the environment variable a *_env setting names; "" when unset.
func Secret(envName string) string {
	if envName == "" {
		return ""
	}
	return os.Getenv(envName)
}
