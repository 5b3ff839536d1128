// Package runbooks holds the remediation catalog domain shared by the Terraform
// provider and the remediator: the Runbook and Policy documents, their on-disk
// YAML format, validation, label matchers, CEL expressions and routing.
package runbooks

// APIVersion is the only apiVersion a catalog document may carry.
const APIVersion = "remediation.gitops.dev/v1"

// Document kinds.
const (
	KindRunbook = "Runbook"
	KindPolicy  = "Policy"
)

// Metadata identifies a document inside the catalog.
type Metadata struct {
	Name string `yaml:"name"`
}

// Runbook declares how one kind of anomaly is remediated.
type Runbook struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Metadata   Metadata    `yaml:"metadata"`
	Spec       RunbookSpec `yaml:"spec"`
}

// RunbookSpec is everything a catalog author declares about a runbook.
type RunbookSpec struct {
	Description string      `yaml:"description,omitempty"`
	Enabled     bool        `yaml:"enabled"`
	Risk        Risk        `yaml:"risk"`
	Owners      []string    `yaml:"owners,omitempty"`
	Trigger     Trigger     `yaml:"trigger"`
	Changes     []Change    `yaml:"changes"`
	Plan        RunbookPlan `yaml:"plan,omitempty"`
	Verify      Verify      `yaml:"verify"`
	Rollback    string      `yaml:"rollback"`
	Cooldown    Duration    `yaml:"cooldown,omitempty"`
}

// Trigger selects the anomalies a runbook handles.
type Trigger struct {
	// Matchers use Alertmanager matcher syntax; all must match.
	Matchers []string `yaml:"matchers"`
	// Condition is an optional CEL expression over labels, annotations and value.
	Condition string `yaml:"condition,omitempty"`
	// GroupBy names the labels that identify the target: the dedupe key.
	GroupBy []string `yaml:"group_by,omitempty"`
}

// Change kinds.
const (
	ChangeHCL    = "hcl"
	ChangeYAML   = "yaml"
	ChangeJSON   = "json"
	ChangeRevert = "revert"
)

// Change is one ordered edit to the infrastructure repository.
type Change struct {
	Kind string `yaml:"kind"`
	// File is a Go text/template path, relative to the repository root (hcl, yaml, json).
	File string `yaml:"file,omitempty"`
	// Path addresses the value inside the file, dot separated (hcl, yaml, json).
	Path string `yaml:"path,omitempty"`
	// Value is a CEL expression over labels, annotations, value and current.
	Value string `yaml:"value,omitempty"`
	// Paths are the glob patterns whose latest commit a revert undoes.
	Paths []string `yaml:"paths,omitempty"`
	// Within bounds how old a commit a revert may undo.
	Within Duration `yaml:"within,omitempty"`
}

// RunbookPlan bounds what the terraform plan of a proposal may do.
type RunbookPlan struct {
	AllowedAddresses []string `yaml:"allowed_addresses,omitempty"`
	AllowedActions   []string `yaml:"allowed_actions,omitempty"`
	MaxChanges       int      `yaml:"max_changes,omitempty"`
	AllowDestroy     bool     `yaml:"allow_destroy,omitempty"`
}

// Verify says how a merged remediation proves it worked.
type Verify struct {
	// Within bounds how long after the change is applied the anomaly may take to go.
	Within        Duration `yaml:"within"`
	AlertResolved bool     `yaml:"alert_resolved"`
	PromQL        string   `yaml:"promql,omitempty"`
	// Soak is how long the alert must stay resolved and the PromQL condition hold,
	// without a break, before the outcome is verified.
	Soak Duration `yaml:"soak"`
	// ApplyTimeout bounds how long after the merge the change may take to be
	// reported applied; past it the outcome is not-applied.
	ApplyTimeout Duration `yaml:"apply_timeout"`
	// AppliedCheck names the check (commit status, check run or checks-note entry)
	// on the merge commit that reports the change applied; empty takes the policy's.
	AppliedCheck string `yaml:"applied_check,omitempty"`
}

// Rollback modes.
const (
	RollbackRevert = "revert"
	RollbackNone   = "none"
)

// Policy holds the guardrails for the anomalies its selector matches.
type Policy struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   Metadata   `yaml:"metadata"`
	Spec       PolicySpec `yaml:"spec"`
}

// PolicySpec is everything a catalog author declares about a policy.
type PolicySpec struct {
	Description       string    `yaml:"description,omitempty"`
	Selector          Selector  `yaml:"selector,omitempty"`
	Priority          int       `yaml:"priority"`
	Approvals         Approvals `yaml:"approvals"`
	RequiredReviewers []string  `yaml:"required_reviewers,omitempty"`
	// RequiredChecks name the commit statuses or check runs that must be green on the
	// proposal's head commit before it merges; one not reported yet is not green.
	RequiredChecks []string `yaml:"required_checks,omitempty"`
	// AppliedCheck names the check on a merge commit that reports the change applied
	// (DefaultAppliedCheck when empty); a runbook's verify.applied_check overrides it.
	AppliedCheck   string         `yaml:"applied_check,omitempty"`
	AutoMerge      AutoMerge      `yaml:"auto_merge"`
	ChangeWindows  []Window       `yaml:"change_windows,omitempty"`
	FreezeWindows  []Window       `yaml:"freeze_windows,omitempty"`
	Limits         Limits         `yaml:"limits,omitempty"`
	CircuitBreaker CircuitBreaker `yaml:"circuit_breaker,omitempty"`
	Plan           PolicyPlan     `yaml:"plan,omitempty"`
	// ProtectedPaths add to DefaultProtectedPaths(); the defaults cannot be removed.
	ProtectedPaths []string `yaml:"protected_paths,omitempty"`
}

// Selector chooses the anomalies a policy governs; empty matches every anomaly.
type Selector struct {
	Matchers []string `yaml:"matchers,omitempty"`
}

// Approvals is the number of human approvals required per risk tier.
type Approvals struct {
	Low      int `yaml:"low"`
	Medium   int `yaml:"medium"`
	High     int `yaml:"high"`
	Critical int `yaml:"critical"`
}

// AutoMerge says which proposals may merge without a human.
type AutoMerge struct {
	// MaxRisk is the highest risk tier that may auto-merge, or "none".
	MaxRisk string `yaml:"max_risk"`
	// MinVerifiedRuns is how many consecutive verified outcomes of the runbook's
	// current version, with no failure since, it needs first.
	MinVerifiedRuns int `yaml:"min_verified_runs,omitempty"`
	// MinSuccessRate, when set, also asks the lower bound of the 95% Wilson interval
	// of the version's success rate (verified over verified and failed) to reach it.
	MinSuccessRate float64 `yaml:"min_success_rate,omitempty"`
}

// Window is a recurring weekly time window in a time zone, optionally bounded by dates.
type Window struct {
	TimeZone string   `yaml:"time_zone"`
	Days     []string `yaml:"days,omitempty"`
	Start    string   `yaml:"start,omitempty"`
	End      string   `yaml:"end,omitempty"`
	From     string   `yaml:"from,omitempty"`
	Until    string   `yaml:"until,omitempty"`
}

// Limits bound how many proposals a policy lets through; zero means unlimited.
type Limits struct {
	MaxOpen int `yaml:"max_open,omitempty"`
	PerHour int `yaml:"per_hour,omitempty"`
}

// CircuitBreaker stops a runbook that keeps failing.
type CircuitBreaker struct {
	Failures int      `yaml:"failures,omitempty"`
	Window   Duration `yaml:"window,omitempty"`
	Cooldown Duration `yaml:"cooldown,omitempty"`
}

// PolicyPlan bounds terraform plans for every runbook the policy governs.
type PolicyPlan struct {
	AllowDestroy        bool     `yaml:"allow_destroy,omitempty"`
	MaxChanges          int      `yaml:"max_changes,omitempty"`
	DeniedResourceTypes []string `yaml:"denied_resource_types,omitempty"`
}

// DefaultProtectedPaths returns the paths a remediation can never touch, whatever the
// policy says: CI configuration, code ownership and the remediation artifacts themselves.
func DefaultProtectedPaths() []string {
	return []string{
		// GitHub: workflows, actions, CODEOWNERS, Dependabot, rulesets' files.
		".github/**",
		// CODEOWNERS anywhere (GitHub reads it at the root, docs/ and .github/; GitLab
		// and Bitbucket elsewhere too).
		"**/CODEOWNERS",
		// GitLab CI and its templates, at any depth (includes name any path).
		"**/.gitlab-ci.yml", "**/.gitlab-ci.yaml", ".gitlab/**",
		// Jenkins pipelines (multibranch jobs read a Jenkinsfile at any path).
		"**/Jenkinsfile", "**/*.Jenkinsfile", "**/Jenkinsfile.*",
		// Azure Pipelines.
		"**/azure-pipelines.yml", "**/azure-pipelines.yaml", ".azure-pipelines/**", ".azuredevops/**",
		// CircleCI, Buildkite, Drone, Travis, Bitbucket Pipelines.
		".circleci/**",
		".buildkite/**", "**/buildkite.yml", "**/buildkite.yaml", "**/buildkite.json",
		"**/.drone.yml", "**/.drone.yaml", "**/.drone.star", "**/.drone.jsonnet",
		"**/.travis.yml", "**/.travis.yaml",
		"**/bitbucket-pipelines.yml",
		// Gitea and Forgejo Actions, Woodpecker, Tekton.
		".gitea/**", ".forgejo/**", ".woodpecker/**", "**/.woodpecker.yml", "**/.woodpecker.yaml", ".tekton/**",
		// Atlantis decides how plans and applies run.
		"**/atlantis.yaml", "**/atlantis.yml",
		// pre-commit hooks run on developers' machines and in CI.
		"**/.pre-commit-config.yaml", "**/.pre-commit-config.yml", "**/.pre-commit-hooks.yaml",
		// Repository control: attributes (filters, diff drivers) and submodules.
		"**/.gitattributes", "**/.gitmodules",
		// Google Cloud Build, AWS CodeBuild (a trigger or project names its file at any
		// path; these are the names they read by default), Semaphore, Cirrus CI, AppVeyor,
		// Harness, Codefresh, TeamCity (Kotlin DSL), Bamboo specs.
		"**/cloudbuild.yaml", "**/cloudbuild.yml", "**/cloudbuild.json",
		"**/buildspec.yml", "**/buildspec.yaml", "**/buildspec-*.yml", "**/buildspec-*.yaml", "**/buildspec_*.yml", "**/buildspec_*.yaml",
		"**/.semaphore/**",
		"**/.cirrus.yml", "**/.cirrus.yaml", "**/.cirrus.star",
		"**/appveyor.yml", "**/appveyor.yaml", "**/.appveyor.yml", "**/.appveyor.yaml",
		"**/.harness/**",
		"**/codefresh.yml", "**/codefresh.yaml",
		"**/.teamcity/**",
		"**/bamboo-specs/**",
		// The dependency bots' repository-control files: Renovate in every name it
		// reads (.github/ and .gitlab/ are protected above), Dependabot under .github/.
		"**/renovate.json", "**/renovate.json5", "**/.renovaterc", "**/.renovaterc.json", "**/.renovaterc.json5",
		// The remediations' own records: each proposal adds only its own.
		".remediations/**",
	}
}

// Document is a Runbook or a Policy.
type Document interface {
	DocumentKind() string
	DocumentName() string
}

// DocumentKind implements Document.
func (r *Runbook) DocumentKind() string { return KindRunbook }

// DocumentName implements Document.
func (r *Runbook) DocumentName() string { return r.Metadata.Name }

// DocumentKind implements Document.
func (p *Policy) DocumentKind() string { return KindPolicy }

// DocumentName implements Document.
func (p *Policy) DocumentName() string { return p.Metadata.Name }
