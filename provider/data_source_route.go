package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

var (
	_ datasource.DataSource              = &routeDataSource{}
	_ datasource.DataSourceWithConfigure = &routeDataSource{}
)

// NewRouteDataSource is the remediation_route data source.
func NewRouteDataSource() datasource.DataSource { return &routeDataSource{} }

type routeDataSource struct {
	data *providerData
}

type routeModel struct {
	Labels            map[string]types.String `tfsdk:"labels"`
	Annotations       map[string]types.String `tfsdk:"annotations"`
	Value             types.Float64           `tfsdk:"value"`
	Runbook           types.String            `tfsdk:"runbook"`
	Policy            types.String            `tfsdk:"policy"`
	Risk              types.String            `tfsdk:"risk"`
	Target            types.String            `tfsdk:"target"`
	RequiredApprovals types.Int64             `tfsdk:"required_approvals"`
	ApprovalsReason   types.String            `tfsdk:"approvals_reason"`
	AutoMerge         types.Bool              `tfsdk:"auto_merge"`
	Matches           []routeMatchModel       `tfsdk:"matches"`
	Skipped           []routeSkipModel        `tfsdk:"skipped"`
	OutcomesRepo      types.String            `tfsdk:"outcomes_repository"`
	OutcomesBranch    types.String            `tfsdk:"outcomes_branch"`
	RemediatorKey     types.String            `tfsdk:"remediator_public_key"`
	Record            *routeRecordModel       `tfsdk:"record"`
}

// routeRecordModel is the acting runbook version's earned autonomy.
type routeRecordModel struct {
	Version           types.String  `tfsdk:"version"`
	Streak            types.Int64   `tfsdk:"streak"`
	Verified          types.Int64   `tfsdk:"verified"`
	Failed            types.Int64   `tfsdk:"failed"`
	NotApplied        types.Int64   `tfsdk:"not_applied"`
	Unaccounted       types.Int64   `tfsdk:"unaccounted"`
	SuccessLowerBound types.Float64 `tfsdk:"success_lower_bound"`
	MayAutoMerge      types.Bool    `tfsdk:"may_auto_merge"`
	Reason            types.String  `tfsdk:"reason"`
}

type routeMatchModel struct {
	Runbook           types.String `tfsdk:"runbook"`
	Enabled           types.Bool   `tfsdk:"enabled"`
	Risk              types.String `tfsdk:"risk"`
	Target            types.String `tfsdk:"target"`
	RequiredApprovals types.Int64  `tfsdk:"required_approvals"`
	AutoMerge         types.Bool   `tfsdk:"auto_merge"`
}

type routeSkipModel struct {
	Runbook types.String `tfsdk:"runbook"`
	Reason  types.String `tfsdk:"reason"`
}

func (d *routeDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_route"
}

func (d *routeDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Routes an anomaly through the published catalog exactly as the remediator would: which runbook handles it, " +
			"which policy governs it, and what the proposal would need. Made for testing a catalog with `terraform test`.",
		Attributes: map[string]schema.Attribute{
			"labels": schema.MapAttribute{
				MarkdownDescription: "The anomaly's labels, such as `{ alertname = \"HighLatency\", service = \"api\" }`.",
				Required:            true, ElementType: types.StringType,
				Validators: []validator.Map{mapvalidator.SizeAtLeast(1)},
			},
			"annotations": schema.MapAttribute{MarkdownDescription: "The anomaly's annotations, seen by CEL conditions.", Optional: true, ElementType: types.StringType},
			"value":       schema.Float64Attribute{MarkdownDescription: "The anomaly's value, seen by CEL conditions.", Optional: true},
			"runbook":     str("The runbook that would act: the most specific enabled match. Null when none."),
			"policy":      str("The governing policy: the selected one of highest priority, or `" + runbooks.DefaultPolicyName + "`."),
			"risk":        str("Risk tier of the acting runbook."),
			"target":      str("Target of the acting runbook: its group_by labels and values."),
			"required_approvals": schema.Int64Attribute{
				MarkdownDescription: "Approvals on its head commit the acting runbook's proposal would need to merge: the remediator's own answer " +
					"(as `remediator route` and `reconcile` give it), not the policy's bare count for the risk. A risk the policy asks no " +
					"approval for still needs one unless the policy lets it merge alone and the runbook's version has earned that " +
					"(read from `outcomes_repository`; without it, unproven).", Computed: true,
			},
			"approvals_reason": str("Why `required_approvals` is not the policy's count for the risk, when it is not."),
			"auto_merge": schema.BoolAttribute{
				MarkdownDescription: "Whether the acting runbook's proposal would merge with no approval at all: the policy lets its risk merge alone " +
					"and, when the policy's auto-merge terms ask for a record, the version's record (read from `outcomes_repository`) earned it.", Computed: true,
			},
			"matches": schema.ListNestedAttribute{
				MarkdownDescription: "Every matching runbook, most specific first, disabled ones included.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"runbook":            str("Runbook name."),
					"enabled":            schema.BoolAttribute{MarkdownDescription: "Whether it would act.", Computed: true},
					"risk":               str("Risk tier."),
					"target":             str("Target."),
					"required_approvals": schema.Int64Attribute{MarkdownDescription: "Approvals its proposal would need, as `required_approvals` says (a record is read for the acting runbook only).", Computed: true},
					"auto_merge":         schema.BoolAttribute{MarkdownDescription: "Whether its proposal would merge with no approval, as `auto_merge` says.", Computed: true},
				}},
			},
			"outcomes_repository": schema.StringAttribute{
				MarkdownDescription: "The infrastructure repository (path or URL) whose outcome notes hold the runbooks' records. " +
					"When set, `record` says whether the acting runbook's current version has earned auto-merge. Read with the provider's credentials.",
				Optional: true, Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
					stringvalidator.AlsoRequires(path.MatchRoot("remediator_public_key")),
				},
			},
			"remediator_public_key": schema.StringAttribute{
				MarkdownDescription: "The remediator's public key (`signing.key_file`'s `.pub`, an `ssh-ed25519 AAAA...` line). " +
					"Only merges it signed (or, on GitHub, recorded before merging) and outcome notes it sealed count for a record: " +
					"anyone with push access can write a note. Required with `outcomes_repository`.",
				Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"outcomes_branch": schema.StringAttribute{
				MarkdownDescription: "The branch of `outcomes_repository` remediations merge into. Defaults to `main`.",
				Optional:            true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"record": schema.SingleNestedAttribute{
				MarkdownDescription: "The acting runbook's record at its current version (its content hash), read from `outcomes_repository`: " +
					"null without a repository or an acting runbook.",
				Computed: true,
				Attributes: map[string]schema.Attribute{
					"version":     str("The runbook's current version."),
					"streak":      schema.Int64Attribute{MarkdownDescription: "Verified outcomes in a row since the version's last failure.", Computed: true},
					"verified":    schema.Int64Attribute{MarkdownDescription: "Verified outcomes of the version.", Computed: true},
					"failed":      schema.Int64Attribute{MarkdownDescription: "Failed outcomes of the version.", Computed: true},
					"not_applied": schema.Int64Attribute{MarkdownDescription: "Merges of the version never reported applied.", Computed: true},
					"unaccounted": schema.Int64Attribute{
						MarkdownDescription: "Merges of the version whose outcome the remediator cannot vouch for (a note it did not seal, or none within 7 days): they break the streak as a failure does.",
						Computed:            true,
					},
					"success_lower_bound": schema.Float64Attribute{MarkdownDescription: "Lower bound of the 95% Wilson interval of the version's success rate.", Computed: true},
					"may_auto_merge": schema.BoolAttribute{
						MarkdownDescription: "Whether a proposal of the runbook may merge without a human now: the policy allows its risk and the version earned it.",
						Computed:            true,
					},
					"reason": str("Why it may not auto-merge, when it may not."),
				},
			},
			"skipped": schema.ListNestedAttribute{
				MarkdownDescription: "Runbooks whose matchers matched but whose condition did not hold.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"runbook": str("Runbook name."),
					"reason":  str("Why it was skipped."),
				}},
			},
		},
	}
}

func (d *routeDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *routeDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m routeModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, cat, diags := loadCatalog(ctx, d.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		resp.Diagnostics.AddError("Invalid catalog", err.Error())
		return
	}
	toMap := func(in map[string]types.String) map[string]string {
		out := make(map[string]string, len(in))
		for k, v := range in {
			out[k] = v.ValueString()
		}
		return out
	}
	dec := router.Route(runbooks.Anomaly{Labels: toMap(m.Labels), Annotations: toMap(m.Annotations), Value: m.Value.ValueFloat64()})
	m.Policy = types.StringValue(dec.Policy.Metadata.Name)
	m.Runbook, m.Risk, m.Target = types.StringNull(), types.StringNull(), types.StringNull()
	m.RequiredApprovals, m.ApprovalsReason, m.AutoMerge = types.Int64Null(), types.StringNull(), types.BoolNull()
	m.Matches, m.Skipped, m.Record = []routeMatchModel{}, []routeSkipModel{}, nil
	acting := actingMatch(dec.Matches)
	var autonomy *records.Autonomy
	if !m.OutcomesRepo.IsNull() && acting != nil {
		a, ok := d.readAutonomy(ctx, m, acting.Runbook, dec.Policy, resp)
		if !ok {
			return
		}
		autonomy, m.Record = a, recordModel(a)
	}
	for i := range dec.Matches {
		match := &dec.Matches[i]
		var a *records.Autonomy
		if match == acting {
			a = autonomy
		}
		need := routeNeed(dec.Policy, match.Risk, a)
		m.Matches = append(m.Matches, routeMatchModel{
			Runbook: types.StringValue(match.Runbook.Metadata.Name), Enabled: types.BoolValue(match.Runbook.Spec.Enabled),
			Risk: types.StringValue(string(match.Risk)), Target: types.StringValue(match.Target),
			RequiredApprovals: types.Int64Value(int64(need.Approvals)), AutoMerge: types.BoolValue(need.AutoMerge),
		})
		if match == acting {
			m.Runbook = types.StringValue(match.Runbook.Metadata.Name)
			m.Risk = types.StringValue(string(match.Risk))
			m.Target = types.StringValue(match.Target)
			m.RequiredApprovals, m.AutoMerge = types.Int64Value(int64(need.Approvals)), types.BoolValue(need.AutoMerge)
			m.ApprovalsReason = stringOrNull(need.Why)
		}
	}
	for _, s := range dec.Skipped {
		m.Skipped = append(m.Skipped, routeSkipModel{Runbook: types.StringValue(s.Runbook.Metadata.Name), Reason: types.StringValue(s.Reason)})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// actingMatch is the runbook that would act: the first (most specific) enabled match.
func actingMatch(matches []runbooks.RunbookMatch) *runbooks.RunbookMatch {
	for i := range matches {
		if matches[i].Runbook.Spec.Enabled {
			return &matches[i]
		}
	}
	return nil
}

// routeNeed is what a proposal at the risk would need: records.NeedOf, the rule
// reconcile's gate applies, so the data source never says less than the gate asks.
// Without the runbook's record (no outcomes_repository, or not the acting runbook)
// auto-merge terms that ask for one are unproven, and a person must approve.
func routeNeed(pol *runbooks.Policy, risk runbooks.Risk, a *records.Autonomy) records.Need {
	// A record not read needs a person; NeedOf says so in the need.
	n, _ := records.NeedOf(pol, risk, func() (records.Record, error) {
		if a == nil {
			return records.Record{}, errors.New("the runbook's record is not read (set outcomes_repository and remediator_public_key)")
		}
		return a.Record, nil
	})
	return n
}

// readAutonomy reads the acting runbook's record, or says in resp why it cannot.
func (d *routeDataSource) readAutonomy(ctx context.Context, m routeModel, rb *runbooks.Runbook, pol *runbooks.Policy, resp *datasource.ReadResponse) (*records.Autonomy, bool) {
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(m.RemediatorKey.ValueString()))
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("remediator_public_key"), "Invalid remediator public key",
			fmt.Sprintf("remediator_public_key must be one public key line as in the remediator's signing key .pub file (\"ssh-ed25519 AAAA... remediator\").\n\n%s", err))
		return nil, false
	}
	a, err := d.autonomy(ctx, m, key, rb, pol)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("outcomes_repository"), "Cannot read the runbook's record",
			fmt.Sprintf("Reading the outcome notes of %s failed. Check the repository and branch, and that the provider's credentials may read it.\n\n%s",
				m.OutcomesRepo.ValueString(), err))
		return nil, false
	}
	return a, true
}

// autonomy reads the acting runbook's record from the outcome notes of the
// infrastructure repository, cloned into a temporary directory for the read.
func (d *routeDataSource) autonomy(ctx context.Context, m routeModel, key ssh.PublicKey, rb *runbooks.Runbook, pol *runbooks.Policy) (*records.Autonomy, error) {
	dir, err := os.MkdirTemp("", "remediation-outcomes-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	token := ""
	if d.data != nil {
		token = d.data.opts.Token
	}
	repo, err := infrarepo.Open(ctx, m.OutcomesRepo.ValueString(), token, dir)
	if err != nil {
		return nil, fmt.Errorf("open outcomes repository: %w", err)
	}
	defer func() { _ = repo.Close() }()
	branch := "main"
	if !m.OutcomesBranch.IsNull() {
		branch = m.OutcomesBranch.ValueString()
	}
	h := records.History{Repo: repo, Base: branch, Remediator: key, Now: time.Now()}
	a, err := h.AutonomyOf(rb, pol)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// recordModel is the record as the data source shows it.
func recordModel(a *records.Autonomy) *routeRecordModel {
	r := a.Record
	return &routeRecordModel{
		Version: types.StringValue(r.Version), Streak: types.Int64Value(int64(r.Streak)),
		Verified: types.Int64Value(int64(r.Verified)), Failed: types.Int64Value(int64(r.Failed)), NotApplied: types.Int64Value(int64(r.NotApplied)),
		Unaccounted:       types.Int64Value(int64(r.Unaccounted)),
		SuccessLowerBound: types.Float64Value(r.SuccessLowerBound()), MayAutoMerge: types.BoolValue(a.MayAutoMerge), Reason: stringOrNull(a.Reason),
	}
}
