package runbooks

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

const defaultVerifyWithin = 15 * time.Minute

// Verification defaults: a change is applied within an hour of its merge, and
// verified after its anomaly has stayed gone for ten minutes.
const (
	DefaultVerifySoak   = 10 * time.Minute
	DefaultApplyTimeout = time.Hour
	// DefaultAppliedCheck is the check CI reports on a merge commit once
	// `terraform apply` of it succeeded.
	DefaultAppliedCheck = "terraform-apply"
)

// AppliedCheck is the check that reports a runbook's change applied under a policy.
func AppliedCheck(rb *Runbook, pol *Policy) string {
	if rb != nil && rb.Spec.Verify.AppliedCheck != "" {
		return rb.Spec.Verify.AppliedCheck
	}
	if pol != nil && pol.Spec.AppliedCheck != "" {
		return pol.Spec.AppliedCheck
	}
	return DefaultAppliedCheck
}

// NamePattern is what a runbook or policy name must match. Names become file names and
// parts of branch names, so they are DNS labels.
const NamePattern = `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`

var (
	nameRE      = regexp.MustCompile(NamePattern)
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	// A GitHub login, or org/team for a team.
	// A reviewer is a login, an org/team, or (the local forge) a principal of the
	// allowed-signers file that is an email: matched exactly, never by its local part.
	reviewerRE = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?|[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))$`)
	// A resource type, or a pattern of one: aws_iam_* .
	resourceTypeRE = regexp.MustCompile(`^[a-z*?][a-z0-9_*?]*$`)
	clockRE        = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)
)

// PlanActions are the actions a runbook's plan limits may allow.
func PlanActions() []string { return []string{"create", "read", "update", "delete", "replace"} }

// Weekdays are the day names a window accepts.
func Weekdays() []string { return []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} }

// Validate checks a runbook; errors carry field paths.
func (r *Runbook) Validate() Errors { return validateDocument(r) }

// Validate checks a policy; errors carry field paths.
func (p *Policy) Validate() Errors { return validateDocument(p) }

func validateDocument(doc Document) Errors {
	var f fieldErrors
	switch d := doc.(type) {
	case *Runbook:
		validateHeader(&f, d.APIVersion, d.Kind, KindRunbook, d.Metadata.Name)
		validateRunbookSpec(&f, &d.Spec)
	case *Policy:
		validateHeader(&f, d.APIVersion, d.Kind, KindPolicy, d.Metadata.Name)
		validatePolicySpec(&f, &d.Spec)
	}
	return f.errs
}

func validateHeader(f *fieldErrors, apiVersion, kind, wantKind, name string) {
	if apiVersion != APIVersion {
		f.add("apiVersion", "must be %s", APIVersion)
	}
	if kind != wantKind {
		f.add("kind", "must be %s", wantKind)
	}
	ValidateName(f, "metadata.name", name)
}

// ValidateName checks a runbook or policy name.
func ValidateName(f *fieldErrors, field, name string) {
	if !nameRE.MatchString(name) {
		f.add(field, "invalid name %q: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit", name)
	}
}

// CheckName returns an error when name is not a valid runbook or policy name.
func CheckName(name string) error {
	var f fieldErrors
	ValidateName(&f, "name", name)
	if len(f.errs) > 0 {
		return fmt.Errorf("%s", f.errs[0].Msg)
	}
	return nil
}

func validateRunbookSpec(f *fieldErrors, s *RunbookSpec) {
	if !s.Risk.Valid() {
		f.add("spec.risk", "invalid risk %q: want %s", s.Risk, riskChoices())
	}
	validateNonEmpty(f, "spec.owners", s.Owners)
	validateTrigger(f, &s.Trigger)
	if len(s.Changes) == 0 {
		f.add("spec.changes", "at least one change is required")
	}
	for i := range s.Changes {
		validateChange(f, fmt.Sprintf("spec.changes[%d]", i), &s.Changes[i])
	}
	validateRunbookPlan(f, &s.Plan)
	validateVerify(f, &s.Verify)
	if s.Rollback != RollbackRevert && s.Rollback != RollbackNone {
		f.add("spec.rollback", "invalid rollback %q: want %s or %s", s.Rollback, RollbackRevert, RollbackNone)
	}
}

func validateTrigger(f *fieldErrors, t *Trigger) {
	if len(t.Matchers) == 0 {
		f.add("spec.trigger.matchers", "at least one matcher is required, such as alertname=\"HighLatency\"")
	}
	validateMatchers(f, "spec.trigger.matchers", t.Matchers)
	if t.Condition != "" {
		if _, err := CompileCondition(t.Condition); err != nil {
			f.add("spec.trigger.condition", "%v", err)
		}
	}
	seen := map[string]bool{}
	for i, l := range t.GroupBy {
		field := fmt.Sprintf("spec.trigger.group_by[%d]", i)
		switch {
		case !labelNameRE.MatchString(l):
			f.add(field, "invalid label name %q", l)
		case seen[l]:
			f.add(field, "label %q is listed twice", l)
		}
		seen[l] = true
	}
}

func validateMatchers(f *fieldErrors, field string, ms []string) {
	for i, m := range ms {
		if _, err := ParseMatchers([]string{m}); err != nil {
			f.add(fmt.Sprintf("%s[%d]", field, i), "invalid matcher %q: %v", m, unwrapAll(err))
		}
	}
}

// unwrapAll drops our own "matcher N" prefix, since the field path already says it.
func unwrapAll(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "\": "); ok {
		return after
	}
	return msg
}

func validateChange(f *fieldErrors, field string, c *Change) {
	switch c.Kind {
	case ChangeHCL, ChangeYAML, ChangeJSON:
		validateFileTemplate(f, field+".file", c.File)
		validateValuePath(f, field+".path", c.Path)
		if strings.TrimSpace(c.Value) == "" {
			f.add(field+".value", "a CEL value expression is required, such as math.least(current * 2, 20)")
		} else if _, err := CompileValue(c.Value); err != nil {
			f.add(field+".value", "%v", err)
		}
		if len(c.Paths) > 0 {
			f.add(field+".paths", "only a revert change takes paths")
		}
		if c.Within != 0 {
			f.add(field+".within", "only a revert change takes within")
		}
	case ChangeRevert:
		if len(c.Paths) == 0 {
			f.add(field+".paths", "a revert needs at least one path pattern")
		}
		for i, p := range c.Paths {
			validateRevertPath(f, fmt.Sprintf("%s.paths[%d]", field, i), p)
		}
		if c.Within <= 0 {
			f.add(field+".within", "a revert needs within: how old a commit it may undo, such as 2h")
		}
		for _, kv := range [][2]string{{"file", c.File}, {"path", c.Path}, {"value", c.Value}} {
			if kv[1] != "" {
				f.add(field+"."+kv[0], "a revert change does not take %s", kv[0])
			}
		}
	case "":
		f.add(field+".kind", "required: one of hcl, yaml, json, revert")
	default:
		f.add(field+".kind", "unknown kind %q: want hcl, yaml, json or revert", c.Kind)
	}
}

func validateFileTemplate(f *fieldErrors, field, src string) {
	if src == "" {
		f.add(field, "a file path is required, such as envs/prod/{{ .labels.service }}.auto.tfvars")
		return
	}
	t, err := ParsePathTemplate(src)
	if err != nil {
		f.add(field, "%v", err)
		return
	}
	sample, err := t.sample()
	if err != nil {
		f.add(field, "%v", err)
		return
	}
	if pat, ok := ProtectedMatch(sample, nil); ok {
		f.add(field, "path %q is protected (%s): a remediation can never change it", src, pat)
	}
}

// validateRevertPath checks a revert's path pattern: a template (so it can name the
// target, as in k8s/{{ .labels.service }}/**) that renders to a glob.
func validateRevertPath(f *fieldErrors, field, src string) {
	t, err := ParsePathTemplate(src)
	if err != nil {
		f.add(field, "%v", err)
		return
	}
	sample, err := t.sampleRaw()
	if err != nil {
		f.add(field, "%v", err)
		return
	}
	if !validGlob(sample) {
		f.add(field, "invalid glob pattern %q", src)
		return
	}
	if err := CheckRepoPath(strings.ReplaceAll(sample, "*", "x")); err != nil {
		f.add(field, "%v", err)
	}
}

func validateValuePath(f *fieldErrors, field, p string) {
	if p == "" {
		f.add(field, "required: where the value lives in the file, such as resource.aws_autoscaling_group.api.max_size")
		return
	}
	if _, err := SplitValuePath(p); err != nil {
		f.add(field, "%v", err)
	}
}

func validateRunbookPlan(f *fieldErrors, p *RunbookPlan) {
	for i, a := range p.AllowedAddresses {
		if _, err := ParseAddressPattern(a); err != nil {
			f.add(fmt.Sprintf("spec.plan.allowed_addresses[%d]", i), "invalid address pattern: %v (Terraform address syntax: module.db[0].aws_db_instance.*, aws_instance.worker[*], **.aws_autoscaling_group.api)", err)
		}
	}
	actions := PlanActions()
	for i, a := range p.AllowedActions {
		field := fmt.Sprintf("spec.plan.allowed_actions[%d]", i)
		if !contains(actions, a) {
			f.add(field, "unknown action %q: want one of %s", a, strings.Join(actions, ", "))
		} else if (a == "delete" || a == "replace") && !p.AllowDestroy {
			f.add(field, "action %q destroys resources: set allow_destroy = true to allow it", a)
		}
	}
	if p.MaxChanges < 0 {
		f.add("spec.plan.max_changes", "must be 0 (no limit) or more")
	}
}

func validateVerify(f *fieldErrors, v *Verify) {
	if v.Within <= 0 {
		f.add("spec.verify.within", "must be a positive duration such as 15m")
	}
	if !v.AlertResolved && strings.TrimSpace(v.PromQL) == "" {
		f.add("spec.verify", "nothing to verify: set alert_resolved, promql, or both")
	}
	if v.Soak < 0 {
		f.add("spec.verify.soak", "must be a duration such as 10m (0s verifies on the first pass that holds)")
	}
	if v.ApplyTimeout <= 0 {
		f.add("spec.verify.apply_timeout", "must be a positive duration such as 1h")
	}
	validateCheckName(f, "spec.verify.applied_check", v.AppliedCheck, true)
}

// validateCheckName checks the name of a commit status or check run.
func validateCheckName(f *fieldErrors, field, c string, optional bool) bool {
	switch {
	case c == "" && optional:
	case strings.TrimSpace(c) == "":
		f.add(field, "empty check name: want a commit status context or check run name, as CI reports it")
	case len(c) > 255 || strings.ContainsAny(c, "\n\r\t"):
		f.add(field, "invalid check name %q: at most 255 characters, one line", c)
	default:
		return true
	}
	return false
}

func validatePolicySpec(f *fieldErrors, s *PolicySpec) {
	validateMatchers(f, "spec.selector.matchers", s.Selector.Matchers)
	for _, a := range []struct {
		name string
		n    int
	}{{"low", s.Approvals.Low}, {"medium", s.Approvals.Medium}, {"high", s.Approvals.High}, {"critical", s.Approvals.Critical}} {
		if a.n < 0 || a.n > 20 {
			f.add("spec.approvals."+a.name, "must be between 0 and 20")
		}
	}
	for i, r := range s.RequiredReviewers {
		if !reviewerRE.MatchString(r) {
			f.add(fmt.Sprintf("spec.required_reviewers[%d]", i), "invalid reviewer %q: want a user login, org/team, or an allowed-signers principal like alice@example.com", r)
		}
	}
	seen := map[string]int{}
	for i, c := range s.RequiredChecks {
		field := fmt.Sprintf("spec.required_checks[%d]", i)
		if validateCheckName(f, field, c, false) && seen[c] > 0 {
			f.add(field, "check %q is listed twice (first at index %d)", c, seen[c]-1)
		}
		seen[c] = i + 1
	}
	if s.AutoMerge.MaxRisk != AutoMergeNone && !Risk(s.AutoMerge.MaxRisk).Valid() {
		f.add("spec.auto_merge.max_risk", "invalid %q: want none, %s", s.AutoMerge.MaxRisk, riskChoices())
	}
	if s.AutoMerge.MinVerifiedRuns < 0 {
		f.add("spec.auto_merge.min_verified_runs", "must be 0 or more")
	}
	if r := s.AutoMerge.MinSuccessRate; r < 0 || r > 1 || r != r {
		f.add("spec.auto_merge.min_success_rate", "must be between 0 and 1, such as 0.9")
	}
	validateCheckName(f, "spec.applied_check", s.AppliedCheck, true)
	for i := range s.ChangeWindows {
		validateWindow(f, fmt.Sprintf("spec.change_windows[%d]", i), &s.ChangeWindows[i])
	}
	for i := range s.FreezeWindows {
		validateWindow(f, fmt.Sprintf("spec.freeze_windows[%d]", i), &s.FreezeWindows[i])
	}
	if s.Limits.MaxOpen < 0 {
		f.add("spec.limits.max_open", "must be 0 (no limit) or more")
	}
	if s.Limits.PerHour < 0 {
		f.add("spec.limits.per_hour", "must be 0 (no limit) or more")
	}
	cb := s.CircuitBreaker
	if cb.Failures < 0 {
		f.add("spec.circuit_breaker.failures", "must be 0 (no breaker) or more")
	}
	if cb.Failures > 0 && cb.Window <= 0 {
		f.add("spec.circuit_breaker.window", "required when failures is set: the span in which failures are counted")
	}
	if cb.Failures > 0 && cb.Cooldown <= 0 {
		f.add("spec.circuit_breaker.cooldown", "required when failures is set: how long a tripped runbook stays suspended")
	}
	if s.Plan.MaxChanges < 0 {
		f.add("spec.plan.max_changes", "must be 0 (no limit) or more")
	}
	for i, t := range s.Plan.DeniedResourceTypes {
		if !resourceTypeRE.MatchString(t) || !MatchResourceTypeValid(t) {
			f.add(fmt.Sprintf("spec.plan.denied_resource_types[%d]", i), "invalid resource type %q", t)
		}
	}
	for i, p := range s.ProtectedPaths {
		pf := fmt.Sprintf("spec.protected_paths[%d]", i)
		if !validGlob(p) || strings.TrimSpace(p) == "" {
			f.add(pf, "invalid glob pattern %q", p)
		} else if strings.HasPrefix(p, "/") {
			f.add(pf, "pattern %q is absolute: patterns are relative to the repository root", p)
		}
	}
}

func validateWindow(f *fieldErrors, field string, w *Window) {
	if w.TimeZone == "" {
		f.add(field+".time_zone", "required: an IANA time zone such as Europe/Berlin or UTC")
	} else if _, err := time.LoadLocation(w.TimeZone); err != nil || strings.EqualFold(w.TimeZone, "local") {
		f.add(field+".time_zone", "unknown time zone %q: use an IANA name such as Europe/Berlin or UTC", w.TimeZone)
	}
	seen := map[string]bool{}
	for i, d := range w.Days {
		df := fmt.Sprintf("%s.days[%d]", field, i)
		switch {
		case !contains(Weekdays(), d):
			f.add(df, "unknown day %q: want one of %s", d, strings.Join(Weekdays(), ", "))
		case seen[d]:
			f.add(df, "day %q is listed twice", d)
		}
		seen[d] = true
	}
	if (w.Start == "") != (w.End == "") {
		f.add(field, "set both start and end, or neither for the whole day")
	}
	if w.Start != "" && !clockRE.MatchString(w.Start) {
		f.add(field+".start", "invalid time %q: want HH:MM, 24-hour", w.Start)
	}
	if w.End != "" && !clockRE.MatchString(w.End) {
		f.add(field+".end", "invalid time %q: want HH:MM, 24-hour", w.End)
	}
	var from, until time.Time
	var err error
	if w.From != "" {
		if from, err = time.Parse(time.DateOnly, w.From); err != nil {
			f.add(field+".from", "invalid date %q: want YYYY-MM-DD", w.From)
		}
	}
	if w.Until != "" {
		if until, err = time.Parse(time.DateOnly, w.Until); err != nil {
			f.add(field+".until", "invalid date %q: want YYYY-MM-DD", w.Until)
		}
	}
	if !from.IsZero() && !until.IsZero() && until.Before(from) {
		f.add(field+".until", "%s is before from %s", w.Until, w.From)
	}
}

func validateNonEmpty(f *fieldErrors, field string, ss []string) {
	for i, s := range ss {
		if strings.TrimSpace(s) == "" {
			f.add(fmt.Sprintf("%s[%d]", field, i), "must not be empty")
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
