// Command terraform-provider-localbench is the apply benchmark's fair peer: the
// smallest plugin-framework provider (the same framework version as ours) that does
// what terraform-provider-local's local_file does: a resource with filename and
// content that writes, reads and deletes one file.
package main

import (
	"context"
	"errors"
	"io/fs"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type localProvider struct{}

func (localProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "localbench"
}
func (localProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{}
}
func (localProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}
func (localProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return fileResource{} }}
}
func (localProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

type fileResource struct{}

type fileModel struct {
	ID       types.String `tfsdk:"id"`
	Filename types.String `tfsdk:"filename"`
	Content  types.String `tfsdk:"content"`
}

func (fileResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_file"
}

func (fileResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id":       schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"filename": schema.StringAttribute{Required: true, PlanModifiers: replace},
		"content":  schema.StringAttribute{Required: true, PlanModifiers: replace},
	}}
}

func (fileResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m fileModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := os.WriteFile(m.Filename.ValueString(), []byte(m.Content.ValueString()), 0o644); err != nil {
		resp.Diagnostics.AddError("write", err.Error())
		return
	}
	m.ID = m.Filename
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (fileResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m fileModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	data, err := os.ReadFile(m.Filename.ValueString())
	if errors.Is(err, fs.ErrNotExist) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("read", err.Error())
		return
	}
	m.Content = types.StringValue(string(data))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (fileResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {
	// Every attribute forces a replacement: nothing is updated in place.
}

func (fileResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m fileModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if err := os.Remove(m.Filename.ValueString()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		resp.Diagnostics.AddError("delete", err.Error())
	}
}

func main() {
	err := providerserver.Serve(context.Background(), func() provider.Provider { return localProvider{} },
		providerserver.ServeOpts{Address: "registry.terraform.io/gitops-remediation/localbench"})
	if err != nil {
		log.Fatal(err)
	}
}
