package provider

import (
	"context"
	"fmt"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitauth"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

var (
	_ datasource.DataSource              = &catalogDataSource{}
	_ datasource.DataSourceWithConfigure = &catalogDataSource{}
)

// NewCatalogDataSource is the remediation_catalog data source.
func NewCatalogDataSource() datasource.DataSource { return &catalogDataSource{} }

type catalogDataSource struct {
	data *providerData
}

type catalogModel struct {
	Head     types.String          `tfsdk:"head"`
	Runbooks []catalogRunbookModel `tfsdk:"runbooks"`
	Policies []catalogPolicyModel  `tfsdk:"policies"`
}

type catalogRunbookModel struct {
	Name        types.String   `tfsdk:"name"`
	Description types.String   `tfsdk:"description"`
	Enabled     types.Bool     `tfsdk:"enabled"`
	Risk        types.String   `tfsdk:"risk"`
	Owners      []types.String `tfsdk:"owners"`
	Matchers    []types.String `tfsdk:"matchers"`
	GroupBy     []types.String `tfsdk:"group_by"`
	Version     types.String   `tfsdk:"version"`
	File        types.String   `tfsdk:"file"`
}

type catalogPolicyModel struct {
	Name     types.String   `tfsdk:"name"`
	Priority types.Int64    `tfsdk:"priority"`
	Selector []types.String `tfsdk:"selector"`
	Version  types.String   `tfsdk:"version"`
	File     types.String   `tfsdk:"file"`
}

func (d *catalogDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_catalog"
}

func (d *catalogDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	list := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{MarkdownDescription: desc, Computed: true, ElementType: types.StringType}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "What the catalog repository holds at the head of its branch: every runbook and policy, for use elsewhere in a configuration.",
		Attributes: map[string]schema.Attribute{
			"head": str("Commit the catalog was read at; empty while the branch does not exist."),
			"runbooks": schema.ListNestedAttribute{
				MarkdownDescription: "Runbooks, sorted by name.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":        str("Runbook name."),
					"description": str("Description."),
					"enabled":     schema.BoolAttribute{MarkdownDescription: "Whether it proposes anything.", Computed: true},
					"risk":        str("Risk tier."),
					"owners":      list("Owners."),
					"matchers":    list("Trigger matchers."),
					"group_by":    list("Labels naming the target."),
					"version":     str("Content version, as recorded in the `Runbook-Version` trailer of proposals."),
					"file":        str("Path of its file in the repository."),
				}},
			},
			"policies": schema.ListNestedAttribute{
				MarkdownDescription: "Policies, sorted by name.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":     str("Policy name."),
					"priority": schema.Int64Attribute{MarkdownDescription: "Priority.", Computed: true},
					"selector": list("Selector matchers."),
					"version":  str("Content version."),
					"file":     str("Path of its file in the repository."),
				}},
			},
		},
	}
}

func (d *catalogDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// loadCatalog reads and validates the whole catalog for a data source.
func loadCatalog(ctx context.Context, data *providerData) (*catalogstore.Snapshot, *runbooks.Catalog, diag.Diagnostics) {
	var diags diag.Diagnostics
	snap, err := data.Snapshot(ctx)
	if err != nil {
		diags.AddError("Cannot read the catalog repository",
			fmt.Sprintf("Fetching %s failed. Check the provider's repository, branch and credentials.\n\n%v", gitauth.RedactURL(data.opts.Repository), err))
		return nil, nil, diags
	}
	cat, err := snap.Catalog()
	if err != nil {
		diags.AddError("Invalid catalog", fmt.Sprintf("The catalog at %s has invalid files. Fix them in the catalog repository.\n\n%v", snap.Head, err))
		return nil, nil, diags
	}
	return snap, cat, diags
}

func (d *catalogDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	snap, cat, diags := loadCatalog(ctx, d.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	dir := d.data.directory()
	m := catalogModel{Head: types.StringValue(snap.Head), Runbooks: []catalogRunbookModel{}, Policies: []catalogPolicyModel{}}
	for _, rb := range cat.Runbooks {
		v, _ := runbooks.Version(rb)
		m.Runbooks = append(m.Runbooks, catalogRunbookModel{
			Name: types.StringValue(rb.Metadata.Name), Description: types.StringValue(rb.Spec.Description),
			Enabled: types.BoolValue(rb.Spec.Enabled), Risk: types.StringValue(string(rb.Spec.Risk)),
			Owners: stringsOrEmpty(rb.Spec.Owners), Matchers: stringsOrEmpty(rb.Spec.Trigger.Matchers), GroupBy: stringsOrEmpty(rb.Spec.Trigger.GroupBy),
			Version: types.StringValue(v), File: types.StringValue(runbooks.DocumentPath(dir, runbooks.KindRunbook, rb.Metadata.Name)),
		})
	}
	for _, p := range cat.Policies {
		v, _ := runbooks.Version(p)
		m.Policies = append(m.Policies, catalogPolicyModel{
			Name: types.StringValue(p.Metadata.Name), Priority: types.Int64Value(int64(p.Spec.Priority)),
			Selector: stringsOrEmpty(p.Spec.Selector.Matchers), Version: types.StringValue(v),
			File: types.StringValue(runbooks.DocumentPath(dir, runbooks.KindPolicy, p.Metadata.Name)),
		})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// stringsOrEmpty keeps computed lists known and empty rather than null, which reads
// better in expressions such as length(...).
func stringsOrEmpty(ss []string) []types.String {
	out := make([]types.String, len(ss))
	for i, s := range ss {
		out[i] = types.StringValue(s)
	}
	return out
}
