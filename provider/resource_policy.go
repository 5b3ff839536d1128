package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

var (
	_ resource.Resource                   = &policyResource{}
	_ resource.ResourceWithConfigure      = &policyResource{}
	_ resource.ResourceWithImportState    = &policyResource{}
	_ resource.ResourceWithValidateConfig = &policyResource{}
)

// NewPolicyResource is the remediation_policy resource.
func NewPolicyResource() resource.Resource {
	return &policyResource{documentResource[policyModel, *policyModel]{
		kind:    runbooks.KindPolicy,
		renames: policyRenames,
		toModel: func(doc runbooks.Document, dir string) policyModel { return policyToModel(doc.(*runbooks.Policy), dir) },
	}}
}

type policyResource struct {
	documentResource[policyModel, *policyModel]
}

// policyRenames maps catalog fields to the flatter schema.
var policyRenames = map[string]string{"selector.matchers": "selector"}

type policyModel struct {
	ID                types.String     `tfsdk:"id"`
	Name              types.String     `tfsdk:"name"`
	Description       types.String     `tfsdk:"description"`
	Selector          []types.String   `tfsdk:"selector"`
	Priority          types.Int64      `tfsdk:"priority"`
	Approvals         *approvalsModel  `tfsdk:"approvals"`
	RequiredReviewers []types.String   `tfsdk:"required_reviewers"`
	RequiredChecks    []types.String   `tfsdk:"required_checks"`
	AppliedCheck      types.String     `tfsdk:"applied_check"`
	AutoMerge         *autoMergeModel  `tfsdk:"auto_merge"`
	ChangeWindows     []windowModel    `tfsdk:"change_windows"`
	FreezeWindows     []windowModel    `tfsdk:"freeze_windows"`
	Limits            *limitsModel     `tfsdk:"limits"`
	CircuitBreaker    *breakerModel    `tfsdk:"circuit_breaker"`
	Plan              *policyPlanModel `tfsdk:"plan"`
	ProtectedPaths    []types.String   `tfsdk:"protected_paths"`
	File              types.String     `tfsdk:"file"`
}

type approvalsModel struct {
	Low      types.Int64 `tfsdk:"low"`
	Medium   types.Int64 `tfsdk:"medium"`
	High     types.Int64 `tfsdk:"high"`
	Critical types.Int64 `tfsdk:"critical"`
}

type autoMergeModel struct {
	MaxRisk         types.String  `tfsdk:"max_risk"`
	MinVerifiedRuns types.Int64   `tfsdk:"min_verified_runs"`
	MinSuccessRate  types.Float64 `tfsdk:"min_success_rate"`
}

type windowModel struct {
	TimeZone types.String   `tfsdk:"time_zone"`
	Days     []types.String `tfsdk:"days"`
	Start    types.String   `tfsdk:"start"`
	End      types.String   `tfsdk:"end"`
	From     types.String   `tfsdk:"from"`
	Until    types.String   `tfsdk:"until"`
}

type limitsModel struct {
	MaxOpen types.Int64 `tfsdk:"max_open"`
	PerHour types.Int64 `tfsdk:"per_hour"`
}

type breakerModel struct {
	Failures types.Int64   `tfsdk:"failures"`
	Window   DurationValue `tfsdk:"window"`
	Cooldown DurationValue `tfsdk:"cooldown"`
}

type policyPlanModel struct {
	AllowDestroy        types.Bool     `tfsdk:"allow_destroy"`
	MaxChanges          types.Int64    `tfsdk:"max_changes"`
	DeniedResourceTypes []types.String `tfsdk:"denied_resource_types"`
}

func (r *policyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_policy"
}

func windowAttributes(what string) schema.ListNestedAttribute {
	return schema.ListNestedAttribute{
		MarkdownDescription: what,
		Optional:            true,
		Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"time_zone": schema.StringAttribute{MarkdownDescription: "IANA time zone of the window, such as `Europe/Berlin` or `UTC`.", Required: true},
			"days": schema.ListAttribute{
				MarkdownDescription: "Days the window opens on: `mon` ... `sun`. Leave out for every day.",
				Optional:            true, ElementType: types.StringType,
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(stringvalidator.OneOf(runbooks.Weekdays()...))},
			},
			"start": optionalString("Opening time, `HH:MM` 24-hour; with `end`. An end before the start runs over midnight."),
			"end":   optionalString("Closing time, `HH:MM` 24-hour, exclusive."),
			"from":  optionalString("First date, `YYYY-MM-DD`, the window applies."),
			"until": optionalString("Last date, `YYYY-MM-DD`, the window applies."),
		}},
	}
}

func approvalsAttrTypes() map[string]attr.Type {
	return map[string]attr.Type{"low": types.Int64Type, "medium": types.Int64Type, "high": types.Int64Type, "critical": types.Int64Type}
}

func (r *policyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	d := runbooks.NewPolicy("x").Spec
	approval := func(tier string, n int) schema.Int64Attribute {
		return schema.Int64Attribute{
			MarkdownDescription: fmt.Sprintf("Approvals a `%s` risk proposal needs. Defaults to `%d`.", tier, n),
			Optional:            true, Computed: true, Default: int64default.StaticInt64(int64(n)),
			Validators: []validator.Int64{int64validator.Between(0, 20)},
		}
	}
	positive := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{MarkdownDescription: desc, Optional: true, Validators: []validator.Int64{int64validator.AtLeast(1)}}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A guardrail policy: approvals per risk tier, auto-merge, change and freeze windows, limits, a circuit breaker and plan limits " +
			"for the anomalies its selector matches (highest `priority` wins). Written to `<directory>/policies/<name>.yaml` in the catalog repository.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The policy name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Policy name: 1 to 63 lowercase letters, digits and `-`. Changing it replaces the policy.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(runbooks.NamePattern), "must be 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit")},
			},
			"description": optionalString("What the policy guards and why."),
			"selector":    optionalList("Alertmanager matchers over anomaly labels that choose this policy, such as `env=\"prod\"`. Leave out to match every anomaly."),
			"priority": schema.Int64Attribute{
				MarkdownDescription: "When several policies select an anomaly, the highest priority wins, then the name. Defaults to `0`.",
				Optional:            true, Computed: true, Default: int64default.StaticInt64(0),
			},
			"approvals": schema.SingleNestedAttribute{
				MarkdownDescription: "Human approvals required per risk tier, counted only for the proposal's current head commit.",
				Optional:            true, Computed: true,
				Default: objectdefault.StaticValue(types.ObjectValueMust(approvalsAttrTypes(), map[string]attr.Value{
					"low": types.Int64Value(int64(d.Approvals.Low)), "medium": types.Int64Value(int64(d.Approvals.Medium)),
					"high": types.Int64Value(int64(d.Approvals.High)), "critical": types.Int64Value(int64(d.Approvals.Critical)),
				})),
				Attributes: map[string]schema.Attribute{
					"low": approval("low", d.Approvals.Low), "medium": approval("medium", d.Approvals.Medium),
					"high": approval("high", d.Approvals.High), "critical": approval("critical", d.Approvals.Critical),
				},
			},
			"required_reviewers": optionalList("Users (a login; on the local forge, the exact principal of the allowed-signers file, e.g. `alice@example.com`), or `org/team` teams, whose approval is always required."),
			"applied_check": optionalString("The commit status or check run CI reports on a merge commit once it applied it (`remediator applied` does it): " +
				"verification waits for it. A runbook's `verify.applied_check` overrides it; defaults to `" + runbooks.DefaultAppliedCheck + "`."),
			"required_checks": optionalList("Commit statuses or check runs (by context or name, as CI reports them) that must be green on the proposal's head commit before it merges. A check not reported yet is not green."),
			"auto_merge": schema.SingleNestedAttribute{
				MarkdownDescription: "Which proposals may merge without a human.",
				Optional:            true, Computed: true,
				Default: objectdefault.StaticValue(types.ObjectValueMust(map[string]attr.Type{"max_risk": types.StringType, "min_verified_runs": types.Int64Type, "min_success_rate": types.Float64Type},
					map[string]attr.Value{"max_risk": types.StringValue(runbooks.AutoMergeNone), "min_verified_runs": types.Int64Value(0), "min_success_rate": types.Float64Null()})),
				Attributes: map[string]schema.Attribute{
					"max_risk": schema.StringAttribute{
						MarkdownDescription: "Highest risk tier that may auto-merge: `none` (default), `low`, `medium`, `high` or `critical`.",
						Optional:            true, Computed: true, Default: stringdefault.StaticString(runbooks.AutoMergeNone),
						Validators: []validator.String{stringvalidator.OneOf(runbooks.AutoMergeNone, "low", "medium", "high", "critical")},
					},
					"min_success_rate": schema.Float64Attribute{
						MarkdownDescription: "Optional: the lowest success rate a runbook version may show and still auto-merge, judged by the lower " +
							"bound of the 95% Wilson interval of its verified over verified and failed outcomes (so three of three is not 100%), such as `0.8`.",
						Optional: true, Validators: []validator.Float64{float64validator.Between(0, 1)},
					},
					"min_verified_runs": schema.Int64Attribute{
						MarkdownDescription: "Consecutive `verified` outcomes of the runbook's current version (its content hash), with no failure since, " +
							"it needs before it may auto-merge: a new version earns them again, and one `failed` outcome starts the count over. Defaults to `0`.",
						Optional: true, Computed: true, Default: int64default.StaticInt64(0),
						Validators: []validator.Int64{int64validator.AtLeast(0)},
					},
				},
			},
			"change_windows": windowAttributes("Windows in which merges may happen; outside them proposals open but wait. Leave out for any time."),
			"freeze_windows": windowAttributes("Windows in which nothing merges."),
			"limits": schema.SingleNestedAttribute{
				MarkdownDescription: "Bounds on proposals, counted from the forge, not from memory.",
				Optional:            true, Computed: true,
				Default: objectdefault.StaticValue(types.ObjectValueMust(map[string]attr.Type{"max_open": types.Int64Type, "per_hour": types.Int64Type},
					map[string]attr.Value{"max_open": types.Int64Null(), "per_hour": types.Int64Null()})),
				Attributes: map[string]schema.Attribute{
					"max_open": positive("Most proposals open at once; leave out for no limit."),
					"per_hour": positive("Most proposals opened per hour; leave out for no limit."),
				},
			},
			"circuit_breaker": schema.SingleNestedAttribute{
				MarkdownDescription: "Stops a runbook whose remediations keep failing verification.",
				Optional:            true, Computed: true,
				Default: objectdefault.StaticValue(types.ObjectValueMust(map[string]attr.Type{"failures": types.Int64Type, "window": DurationType{}, "cooldown": DurationType{}},
					map[string]attr.Value{"failures": types.Int64Null(), "window": NullDuration(), "cooldown": NullDuration()})),
				Attributes: map[string]schema.Attribute{
					"failures": positive("Failures within `window` that trip the breaker."),
					"window":   schema.StringAttribute{MarkdownDescription: "Span in which failures are counted, such as `1h`.", Optional: true, CustomType: DurationType{}},
					"cooldown": schema.StringAttribute{MarkdownDescription: "How long a tripped runbook stays suspended, such as `6h`.", Optional: true, CustomType: DurationType{}},
				},
			},
			"plan": schema.SingleNestedAttribute{
				MarkdownDescription: "Limits on the terraform plan of every proposal this policy governs.",
				Optional:            true, Computed: true,
				Default: objectdefault.StaticValue(types.ObjectValueMust(map[string]attr.Type{"allow_destroy": types.BoolType, "max_changes": types.Int64Type, "denied_resource_types": types.ListType{ElemType: types.StringType}},
					map[string]attr.Value{"allow_destroy": types.BoolValue(false), "max_changes": types.Int64Null(), "denied_resource_types": types.ListNull(types.StringType)})),
				Attributes: map[string]schema.Attribute{
					"allow_destroy": schema.BoolAttribute{
						MarkdownDescription: "Whether plans may destroy or replace resources. Defaults to `false`.",
						Optional:            true, Computed: true, Default: booldefault.StaticBool(false),
					},
					"max_changes":           positive("Most resources a plan may change; leave out for no limit."),
					"denied_resource_types": optionalList("Resource types a plan may never change, such as `aws_iam_role`, or a pattern of them: `aws_iam_*`."),
				},
			},
			"protected_paths": optionalList("Glob patterns a remediation may never change, added to the built-in ones, which cannot be removed: " +
				"the CI and repository-control files of GitHub, GitLab, Jenkins, Azure Pipelines, CircleCI, Buildkite, Drone, Travis, " +
				"Bitbucket, Gitea/Forgejo, Woodpecker, Tekton, Atlantis and pre-commit at any depth they are read from, `CODEOWNERS` " +
				"anywhere, `.gitattributes`, `.gitmodules` and `.remediations/`. Checked again right before every merge."),
			"file": schema.StringAttribute{
				MarkdownDescription: "Path of the policy's file in the catalog repository.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

func windowsFromModel(ws []windowModel) []runbooks.Window {
	var out []runbooks.Window
	for _, w := range ws {
		out = append(out, runbooks.Window{
			TimeZone: w.TimeZone.ValueString(), Days: fromStrings(w.Days),
			Start: w.Start.ValueString(), End: w.End.ValueString(), From: w.From.ValueString(), Until: w.Until.ValueString(),
		})
	}
	return out
}

func windowsToModel(ws []runbooks.Window) []windowModel {
	var out []windowModel
	for _, w := range ws {
		out = append(out, windowModel{
			TimeZone: types.StringValue(w.TimeZone), Days: stringsOrNil(w.Days),
			Start: stringOrNull(w.Start), End: stringOrNull(w.End), From: stringOrNull(w.From), Until: stringOrNull(w.Until),
		})
	}
	return out
}

// setInt copies a known attribute over a default.
func setInt(dst *int, v types.Int64) {
	if !v.IsNull() && !v.IsUnknown() {
		*dst = int(v.ValueInt64())
	}
}

func (m *policyModel) toDocument() runbooks.Document { return m.toPolicy() }

func (m *policyModel) toPolicy() *runbooks.Policy {
	p := runbooks.NewPolicy(m.Name.ValueString())
	s := &p.Spec
	s.Description = m.Description.ValueString()
	s.Selector.Matchers = fromStrings(m.Selector)
	setInt(&s.Priority, m.Priority)
	if a := m.Approvals; a != nil {
		setInt(&s.Approvals.Low, a.Low)
		setInt(&s.Approvals.Medium, a.Medium)
		setInt(&s.Approvals.High, a.High)
		setInt(&s.Approvals.Critical, a.Critical)
	}
	s.RequiredReviewers = fromStrings(m.RequiredReviewers)
	s.RequiredChecks = fromStrings(m.RequiredChecks)
	s.AppliedCheck = m.AppliedCheck.ValueString()
	if a := m.AutoMerge; a != nil {
		if v := a.MaxRisk.ValueString(); v != "" {
			s.AutoMerge.MaxRisk = v
		}
		setInt(&s.AutoMerge.MinVerifiedRuns, a.MinVerifiedRuns)
		if !a.MinSuccessRate.IsNull() && !a.MinSuccessRate.IsUnknown() {
			s.AutoMerge.MinSuccessRate = a.MinSuccessRate.ValueFloat64()
		}
	}
	s.ChangeWindows = windowsFromModel(m.ChangeWindows)
	s.FreezeWindows = windowsFromModel(m.FreezeWindows)
	if l := m.Limits; l != nil {
		setInt(&s.Limits.MaxOpen, l.MaxOpen)
		setInt(&s.Limits.PerHour, l.PerHour)
	}
	if b := m.CircuitBreaker; b != nil {
		setInt(&s.CircuitBreaker.Failures, b.Failures)
		s.CircuitBreaker.Window = parseDuration(b.Window)
		s.CircuitBreaker.Cooldown = parseDuration(b.Cooldown)
	}
	if pl := m.Plan; pl != nil {
		s.Plan.AllowDestroy = pl.AllowDestroy.ValueBool()
		setInt(&s.Plan.MaxChanges, pl.MaxChanges)
		s.Plan.DeniedResourceTypes = fromStrings(pl.DeniedResourceTypes)
	}
	s.ProtectedPaths = fromStrings(m.ProtectedPaths)
	return p
}

func policyToModel(p *runbooks.Policy, dir string) policyModel {
	s := p.Spec
	return policyModel{
		ID:          types.StringValue(p.Metadata.Name),
		Name:        types.StringValue(p.Metadata.Name),
		Description: stringOrNull(s.Description),
		Selector:    stringsOrNil(s.Selector.Matchers),
		Priority:    types.Int64Value(int64(s.Priority)),
		Approvals: &approvalsModel{
			Low: types.Int64Value(int64(s.Approvals.Low)), Medium: types.Int64Value(int64(s.Approvals.Medium)),
			High: types.Int64Value(int64(s.Approvals.High)), Critical: types.Int64Value(int64(s.Approvals.Critical)),
		},
		RequiredReviewers: stringsOrNil(s.RequiredReviewers),
		RequiredChecks:    stringsOrNil(s.RequiredChecks),
		AppliedCheck:      stringOrNull(s.AppliedCheck),
		AutoMerge: &autoMergeModel{MaxRisk: types.StringValue(s.AutoMerge.MaxRisk), MinVerifiedRuns: types.Int64Value(int64(s.AutoMerge.MinVerifiedRuns)),
			MinSuccessRate: float64OrNull(s.AutoMerge.MinSuccessRate)},
		ChangeWindows: windowsToModel(s.ChangeWindows),
		FreezeWindows: windowsToModel(s.FreezeWindows),
		Limits:        &limitsModel{MaxOpen: int64OrNull(s.Limits.MaxOpen), PerHour: int64OrNull(s.Limits.PerHour)},
		CircuitBreaker: &breakerModel{
			Failures: int64OrNull(s.CircuitBreaker.Failures),
			Window:   durationOrNull(s.CircuitBreaker.Window), Cooldown: durationOrNull(s.CircuitBreaker.Cooldown),
		},
		Plan: &policyPlanModel{
			AllowDestroy: types.BoolValue(s.Plan.AllowDestroy), MaxChanges: int64OrNull(s.Plan.MaxChanges),
			DeniedResourceTypes: stringsOrNil(s.Plan.DeniedResourceTypes),
		},
		ProtectedPaths: stringsOrNil(s.ProtectedPaths),
		File:           types.StringValue(runbooks.DocumentPath(dir, runbooks.KindPolicy, p.Metadata.Name)),
	}
}

func (m *policyModel) keepSpellings(prior *policyModel) {
	if m.CircuitBreaker != nil && prior.CircuitBreaker != nil {
		m.CircuitBreaker.Window = keepSpelling(m.CircuitBreaker.Window, prior.CircuitBreaker.Window)
		m.CircuitBreaker.Cooldown = keepSpelling(m.CircuitBreaker.Cooldown, prior.CircuitBreaker.Cooldown)
	}
}
