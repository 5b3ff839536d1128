package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

var (
	_ resource.Resource                   = &runbookResource{}
	_ resource.ResourceWithConfigure      = &runbookResource{}
	_ resource.ResourceWithImportState    = &runbookResource{}
	_ resource.ResourceWithValidateConfig = &runbookResource{}
)

// NewRunbookResource is the remediation_runbook resource.
func NewRunbookResource() resource.Resource {
	return &runbookResource{documentResource[runbookModel, *runbookModel]{
		kind:    runbooks.KindRunbook,
		renames: nil,
		toModel: func(doc runbooks.Document, dir string) runbookModel {
			return runbookToModel(doc.(*runbooks.Runbook), dir)
		},
	}}
}

type runbookResource struct {
	documentResource[runbookModel, *runbookModel]
}

type runbookModel struct {
	ID          types.String      `tfsdk:"id"`
	Name        types.String      `tfsdk:"name"`
	Description types.String      `tfsdk:"description"`
	Enabled     types.Bool        `tfsdk:"enabled"`
	Risk        types.String      `tfsdk:"risk"`
	Owners      []types.String    `tfsdk:"owners"`
	Trigger     *triggerModel     `tfsdk:"trigger"`
	Changes     []changeModel     `tfsdk:"changes"`
	Plan        *runbookPlanModel `tfsdk:"plan"`
	Verify      *verifyModel      `tfsdk:"verify"`
	Rollback    types.String      `tfsdk:"rollback"`
	Cooldown    DurationValue     `tfsdk:"cooldown"`
	File        types.String      `tfsdk:"file"`
}

type triggerModel struct {
	Matchers  []types.String `tfsdk:"matchers"`
	Condition types.String   `tfsdk:"condition"`
	GroupBy   []types.String `tfsdk:"group_by"`
}

type changeModel struct {
	Kind   types.String   `tfsdk:"kind"`
	File   types.String   `tfsdk:"file"`
	Path   types.String   `tfsdk:"path"`
	Value  types.String   `tfsdk:"value"`
	Paths  []types.String `tfsdk:"paths"`
	Within DurationValue  `tfsdk:"within"`
}

type runbookPlanModel struct {
	AllowedAddresses []types.String `tfsdk:"allowed_addresses"`
	AllowedActions   []types.String `tfsdk:"allowed_actions"`
	MaxChanges       types.Int64    `tfsdk:"max_changes"`
	AllowDestroy     types.Bool     `tfsdk:"allow_destroy"`
}

type verifyModel struct {
	Within        DurationValue `tfsdk:"within"`
	AlertResolved types.Bool    `tfsdk:"alert_resolved"`
	PromQL        types.String  `tfsdk:"promql"`
	Soak          DurationValue `tfsdk:"soak"`
	ApplyTimeout  DurationValue `tfsdk:"apply_timeout"`
	AppliedCheck  types.String  `tfsdk:"applied_check"`
}

func (r *runbookResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_runbook"
}

func runbookPlanAttrTypes() map[string]attr.Type {
	return map[string]attr.Type{
		"allowed_addresses": types.ListType{ElemType: types.StringType},
		"allowed_actions":   types.ListType{ElemType: types.StringType},
		"max_changes":       types.Int64Type,
		"allow_destroy":     types.BoolType,
	}
}

func verifyAttrTypes() map[string]attr.Type {
	return map[string]attr.Type{
		"within": DurationType{}, "alert_resolved": types.BoolType, "promql": types.StringType,
		"soak": DurationType{}, "apply_timeout": DurationType{}, "applied_check": types.StringType,
	}
}

// optionalString is an optional, non-empty string attribute.
func optionalString(desc string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc, Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)}}
}

// optionalList is an optional, non-empty list of strings.
func optionalList(desc string) schema.ListAttribute {
	return schema.ListAttribute{MarkdownDescription: desc, Optional: true, ElementType: types.StringType, Validators: []validator.List{listvalidator.SizeAtLeast(1)}}
}

func (r *runbookResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	risks := []string{"low", "medium", "high", "critical"}
	defaults := runbooks.NewRunbook("defaults").Spec.Verify
	resp.Schema = schema.Schema{
		MarkdownDescription: "A remediation runbook: which anomalies it handles, the changes it proposes to the infrastructure repository, " +
			"what the terraform plan of those changes may do, and how success is verified. Written to `<directory>/runbooks/<name>.yaml` in the catalog repository.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The runbook name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Runbook name: 1 to 63 lowercase letters, digits and `-`. Changing it replaces the runbook.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(runbooks.NamePattern), "must be 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit")},
			},
			"description": optionalString("What the runbook does and why, for reviewers of its proposals."),
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "A disabled runbook is routed but never proposes anything. Defaults to `true`.",
				Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"risk": schema.StringAttribute{
				MarkdownDescription: "Risk tier, which sets the approvals a proposal needs: `low`, `medium`, `high` or `critical`.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.OneOf(risks...)},
			},
			"owners": optionalList("Teams or people responsible for the runbook."),
			"trigger": schema.SingleNestedAttribute{
				MarkdownDescription: "Which anomalies the runbook handles.",
				Required:            true,
				Attributes: map[string]schema.Attribute{
					"matchers": schema.ListAttribute{
						MarkdownDescription: "Alertmanager matchers, all of which must match the anomaly's labels, such as `alertname=\"HighLatency\"` or `service=~\"api-.*\"`.",
						Required:            true, ElementType: types.StringType,
						Validators: []validator.List{listvalidator.SizeAtLeast(1)},
					},
					"condition": optionalString("A CEL expression over `labels`, `annotations` and `value` that must also be true, such as `value > 0.5`."),
					"group_by":  optionalList("Labels naming the target of the remediation; with the runbook name they are the dedupe key."),
				},
			},
			"changes": schema.ListNestedAttribute{
				MarkdownDescription: "Ordered edits to files of the infrastructure repository.",
				Required:            true,
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"kind": schema.StringAttribute{
						MarkdownDescription: "`hcl`, `yaml` or `json` to set a value in a file, or `revert` to undo the latest commit touching `paths`.",
						Required:            true,
						Validators:          []validator.String{stringvalidator.OneOf(runbooks.ChangeHCL, runbooks.ChangeYAML, runbooks.ChangeJSON, runbooks.ChangeRevert)},
					},
					"file":  optionalString("Path of the file to edit, a Go template over `.labels`, `.annotations` and `.value`; a missing label is an error (hcl, yaml, json)."),
					"path":  optionalString("Dot-separated path of the value in the file, such as `resource.aws_autoscaling_group.api.max_size` (hcl, yaml, json)."),
					"value": optionalString("CEL expression for the new value over `labels`, `annotations`, `value` and `current`, such as `math.least(current * 2, 20)` (hcl, yaml, json)."),
					"paths": optionalList("Glob patterns, which may use templates, whose latest commit is reverted (revert)."),
					"within": schema.StringAttribute{
						MarkdownDescription: "How old a commit a revert may undo, such as `2h` (revert).",
						Optional:            true, CustomType: DurationType{},
					},
				}},
			},
			"plan": schema.SingleNestedAttribute{
				MarkdownDescription: "What the terraform plan of a proposal may do; checked in CI by `remediator plan-check`.",
				Optional:            true, Computed: true,
				Default: objectdefault.StaticValue(types.ObjectValueMust(runbookPlanAttrTypes(), map[string]attr.Value{
					"allowed_addresses": types.ListNull(types.StringType), "allowed_actions": types.ListNull(types.StringType),
					"max_changes": types.Int64Null(), "allow_destroy": types.BoolValue(false),
				})),
				Attributes: map[string]schema.Attribute{
					"allowed_addresses": optionalList("Resource address patterns the plan may change, in Terraform's address syntax: " +
						"`[0]` and `[\"key\"]` are instance keys (of `count` and `for_each`), `[*]` any key, `*` one name or part of one, " +
						"`**` any module path (the root too); a step without a key matches every instance, as `-target` does. " +
						"Examples: `aws_instance.worker[*]`, `module.db[0].aws_db_instance.*`, `module.region[\"eu\"].aws_autoscaling_group.api`, " +
						"`**.aws_autoscaling_group.api`. Checked when the catalog is published; `remediator plan-check` reads them from the catalog, never from the proposal."),
					"allowed_actions": schema.ListAttribute{
						MarkdownDescription: "Actions the plan may take: `create`, `read`, `update`, `delete`, `replace`.",
						Optional:            true, ElementType: types.StringType,
						Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(stringvalidator.OneOf(runbooks.PlanActions()...))},
					},
					"max_changes": schema.Int64Attribute{
						MarkdownDescription: "Most resources the plan may change; leave out for no limit.",
						Optional:            true, Validators: []validator.Int64{int64validator.AtLeast(1)},
					},
					"allow_destroy": schema.BoolAttribute{
						MarkdownDescription: "Whether the plan may destroy or replace resources. Defaults to `false`.",
						Optional:            true, Computed: true, Default: booldefault.StaticBool(false),
					},
				},
			},
			"verify": schema.SingleNestedAttribute{
				MarkdownDescription: "How a merged remediation proves it worked.",
				Optional:            true, Computed: true,
				Default: objectdefault.StaticValue(types.ObjectValueMust(verifyAttrTypes(), map[string]attr.Value{
					"within": NewDurationValue(defaults.Within), "alert_resolved": types.BoolValue(true), "promql": types.StringNull(),
					"soak": NewDurationValue(defaults.Soak), "apply_timeout": NewDurationValue(defaults.ApplyTimeout), "applied_check": types.StringNull(),
				})),
				Attributes: map[string]schema.Attribute{
					"within": schema.StringAttribute{
						MarkdownDescription: "How long after the change is reported applied the anomaly may take to go; past it the outcome is `failed`. Defaults to `" + defaults.Within.String() + "`.",
						Optional:            true, Computed: true, CustomType: DurationType{},
						Default: stringdefault.StaticString(defaults.Within.String()),
					},
					"soak": schema.StringAttribute{
						MarkdownDescription: "How long the alert must then stay resolved, and `promql` hold at every step of a Prometheus range query, " +
							"before the outcome is `verified`; a relapse inside it is `failed`. `0s` verifies on the first pass that holds. Defaults to `" + defaults.Soak.String() + "`.",
						Optional: true, Computed: true, CustomType: DurationType{},
						Default: stringdefault.StaticString(defaults.Soak.String()),
					},
					"apply_timeout": schema.StringAttribute{
						MarkdownDescription: "How long after the merge CI may take to report the change applied (the `applied_check`); past it, or when " +
							"the apply reports failure, the outcome is `not-applied`: no rollback, and the circuit breaker does not count it. Defaults to `" + defaults.ApplyTimeout.String() + "`.",
						Optional: true, Computed: true, CustomType: DurationType{},
						Default: stringdefault.StaticString(defaults.ApplyTimeout.String()),
					},
					"applied_check": optionalString("The commit status or check run on the merge commit that reports the change applied (`remediator applied` reports it " +
						"from CI). Defaults to the policy's `applied_check`, else `" + runbooks.DefaultAppliedCheck + "`."),
					"alert_resolved": schema.BoolAttribute{
						MarkdownDescription: "Success requires the triggering alert to have resolved. Defaults to `true`.",
						Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
					},
					"promql": optionalString("A PromQL expression that must hold (return a non-empty result) for success."),
				},
			},
			"rollback": schema.StringAttribute{
				MarkdownDescription: "What happens when verification fails: `revert` proposes the revert (default), `none` only records the failure.",
				Optional:            true, Computed: true, Default: stringdefault.StaticString(runbooks.RollbackRevert),
				Validators: []validator.String{stringvalidator.OneOf(runbooks.RollbackRevert, runbooks.RollbackNone)},
			},
			"cooldown": schema.StringAttribute{
				MarkdownDescription: "Quiet time per target after a remediation, such as `1h`.",
				Optional:            true, CustomType: DurationType{},
			},
			"file": schema.StringAttribute{
				MarkdownDescription: "Path of the runbook's file in the catalog repository.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (m *runbookModel) toDocument() runbooks.Document { return m.toRunbook() }

func (m *runbookModel) toRunbook() *runbooks.Runbook {
	rb := runbooks.NewRunbook(m.Name.ValueString())
	s := &rb.Spec
	s.Description = m.Description.ValueString()
	if !m.Enabled.IsNull() && !m.Enabled.IsUnknown() {
		s.Enabled = m.Enabled.ValueBool()
	}
	s.Risk = runbooks.Risk(m.Risk.ValueString())
	s.Owners = fromStrings(m.Owners)
	if m.Trigger != nil {
		s.Trigger = runbooks.Trigger{
			Matchers:  fromStrings(m.Trigger.Matchers),
			Condition: m.Trigger.Condition.ValueString(),
			GroupBy:   fromStrings(m.Trigger.GroupBy),
		}
	}
	s.Changes = nil
	for _, c := range m.Changes {
		s.Changes = append(s.Changes, runbooks.Change{
			Kind: c.Kind.ValueString(), File: c.File.ValueString(), Path: c.Path.ValueString(), Value: c.Value.ValueString(),
			Paths: fromStrings(c.Paths), Within: parseDuration(c.Within),
		})
	}
	if m.Plan != nil {
		s.Plan = runbooks.RunbookPlan{
			AllowedAddresses: fromStrings(m.Plan.AllowedAddresses),
			AllowedActions:   fromStrings(m.Plan.AllowedActions),
			MaxChanges:       int(m.Plan.MaxChanges.ValueInt64()),
			AllowDestroy:     m.Plan.AllowDestroy.ValueBool(),
		}
	}
	if m.Verify != nil {
		if !m.Verify.Within.IsNull() {
			s.Verify.Within = parseDuration(m.Verify.Within)
		}
		if !m.Verify.AlertResolved.IsNull() {
			s.Verify.AlertResolved = m.Verify.AlertResolved.ValueBool()
		}
		s.Verify.PromQL = m.Verify.PromQL.ValueString()
		if !m.Verify.Soak.IsNull() && !m.Verify.Soak.IsUnknown() {
			s.Verify.Soak = parseDuration(m.Verify.Soak)
		}
		if !m.Verify.ApplyTimeout.IsNull() && !m.Verify.ApplyTimeout.IsUnknown() {
			s.Verify.ApplyTimeout = parseDuration(m.Verify.ApplyTimeout)
		}
		s.Verify.AppliedCheck = m.Verify.AppliedCheck.ValueString()
	}
	if v := m.Rollback.ValueString(); v != "" {
		s.Rollback = v
	}
	s.Cooldown = parseDuration(m.Cooldown)
	return rb
}

func runbookToModel(rb *runbooks.Runbook, dir string) runbookModel {
	s := rb.Spec
	m := runbookModel{
		ID:          types.StringValue(rb.Metadata.Name),
		Name:        types.StringValue(rb.Metadata.Name),
		Description: stringOrNull(s.Description),
		Enabled:     types.BoolValue(s.Enabled),
		Risk:        types.StringValue(string(s.Risk)),
		Owners:      stringsOrNil(s.Owners),
		Trigger: &triggerModel{
			Matchers:  stringsOrNil(s.Trigger.Matchers),
			Condition: stringOrNull(s.Trigger.Condition),
			GroupBy:   stringsOrNil(s.Trigger.GroupBy),
		},
		Plan: &runbookPlanModel{
			AllowedAddresses: stringsOrNil(s.Plan.AllowedAddresses),
			AllowedActions:   stringsOrNil(s.Plan.AllowedActions),
			MaxChanges:       int64OrNull(s.Plan.MaxChanges),
			AllowDestroy:     types.BoolValue(s.Plan.AllowDestroy),
		},
		Verify: &verifyModel{
			Within:        NewDurationValue(s.Verify.Within),
			AlertResolved: types.BoolValue(s.Verify.AlertResolved),
			PromQL:        stringOrNull(s.Verify.PromQL),
			Soak:          NewDurationValue(s.Verify.Soak),
			ApplyTimeout:  NewDurationValue(s.Verify.ApplyTimeout),
			AppliedCheck:  stringOrNull(s.Verify.AppliedCheck),
		},
		Rollback: types.StringValue(s.Rollback),
		Cooldown: durationOrNull(s.Cooldown),
		File:     types.StringValue(runbooks.DocumentPath(dir, runbooks.KindRunbook, rb.Metadata.Name)),
	}
	for _, c := range s.Changes {
		m.Changes = append(m.Changes, changeModel{
			Kind: types.StringValue(c.Kind), File: stringOrNull(c.File), Path: stringOrNull(c.Path), Value: stringOrNull(c.Value),
			Paths: stringsOrNil(c.Paths), Within: durationOrNull(c.Within),
		})
	}
	return m
}

// keepSpelling carries the configuration's spelling of durations into state when it
// means the same as the catalog's canonical one.
func keepSpelling(state, prior DurationValue) DurationValue {
	if eq, _ := state.StringSemanticEquals(context.Background(), prior); eq && !prior.IsNull() && !prior.IsUnknown() {
		return prior
	}
	return state
}

func (m *runbookModel) keepSpellings(prior *runbookModel) {
	m.Cooldown = keepSpelling(m.Cooldown, prior.Cooldown)
	if m.Verify != nil && prior.Verify != nil {
		m.Verify.Within = keepSpelling(m.Verify.Within, prior.Verify.Within)
		m.Verify.Soak = keepSpelling(m.Verify.Soak, prior.Verify.Soak)
		m.Verify.ApplyTimeout = keepSpelling(m.Verify.ApplyTimeout, prior.Verify.ApplyTimeout)
	}
	for i := range m.Changes {
		if i < len(prior.Changes) {
			m.Changes[i].Within = keepSpelling(m.Changes[i].Within, prior.Changes[i].Within)
		}
	}
}
