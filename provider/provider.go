// Package provider is the Terraform provider "remediation": runbooks and policies as
// resources, published to a Git catalog repository, plus data sources and a function
// for testing routing.
package provider

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// Environment variables each provider setting falls back to.
const (
	EnvRepository    = "REMEDIATION_REPOSITORY"
	EnvBranch        = "REMEDIATION_BRANCH"
	EnvDirectory     = "REMEDIATION_DIRECTORY"
	EnvToken         = "REMEDIATION_GIT_TOKEN"
	EnvSSHPrivateKey = "REMEDIATION_SSH_PRIVATE_KEY"
	EnvAuthorName    = "REMEDIATION_AUTHOR_NAME"
	EnvAuthorEmail   = "REMEDIATION_AUTHOR_EMAIL"
)

var (
	_ provider.Provider              = &remediationProvider{}
	_ provider.ProviderWithFunctions = &remediationProvider{}
)

type remediationProvider struct {
	version string
	// getenv is os.Getenv, injectable so tests need not touch the process environment.
	getenv func(string) string
}

// New returns the provider constructor for providerserver.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &remediationProvider{version: version, getenv: os.Getenv}
	}
}

type providerModel struct {
	Repository    types.String `tfsdk:"repository"`
	Branch        types.String `tfsdk:"branch"`
	Directory     types.String `tfsdk:"directory"`
	Token         types.String `tfsdk:"token"`
	SSHPrivateKey types.String `tfsdk:"ssh_private_key"`
	Author        *authorModel `tfsdk:"author"`
}

type authorModel struct {
	Name  types.String `tfsdk:"name"`
	Email types.String `tfsdk:"email"`
}

func (p *remediationProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "remediation"
	resp.Version = p.version
}

func (p *remediationProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Publishes remediation runbooks and guardrail policies to a Git catalog repository, " +
			"which the remediator reads to turn anomalies into reviewed pull requests.",
		Attributes: map[string]schema.Attribute{
			"repository": schema.StringAttribute{
				MarkdownDescription: "The catalog repository: a local path, or a `file://`, `https://` or `ssh://` URL. Falls back to `" + EnvRepository + "`. " +
					"A bare repository on this machine is written by the provider itself, as `git` does, unless something acts on pushes to it " +
					"(a hook, a `receive.*` setting): then its writes go through `git receive-pack`, so its hooks still decide.",
				Optional: true,
			},
			"branch": schema.StringAttribute{
				MarkdownDescription: "Branch holding the catalog. Defaults to `main`; falls back to `" + EnvBranch + "`.",
				Optional:            true,
			},
			"directory": schema.StringAttribute{
				MarkdownDescription: "Directory of the catalog inside the repository (it holds `runbooks/` and `policies/`). Defaults to `catalog`; falls back to `" + EnvDirectory + "`.",
				Optional:            true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "Token for `https://` repositories. Falls back to `" + EnvToken + "`.",
				Optional:            true,
				Sensitive:           true,
			},
			"ssh_private_key": schema.StringAttribute{
				MarkdownDescription: "PEM private key for `ssh://` repositories; host keys are checked against `known_hosts`. Falls back to `" + EnvSSHPrivateKey + "`.",
				Optional:            true,
				Sensitive:           true,
			},
			"author": schema.SingleNestedAttribute{
				MarkdownDescription: "Author of the catalog commits.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{
						MarkdownDescription: "Author name. Defaults to `" + catalogstore.DefaultAuthorName + "`; falls back to `" + EnvAuthorName + "`.",
						Optional:            true,
					},
					"email": schema.StringAttribute{
						MarkdownDescription: "Author email. Defaults to `" + catalogstore.DefaultAuthorEmail + "`; falls back to `" + EnvAuthorEmail + "`.",
						Optional:            true,
					},
				},
			},
		},
	}
}

func (p *remediationProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var author authorModel
	if cfg.Author != nil {
		author = *cfg.Author
	}
	settings := []struct {
		value *types.String
		path  path.Path
		env   string
	}{
		{&cfg.Repository, path.Root("repository"), EnvRepository},
		{&cfg.Branch, path.Root("branch"), EnvBranch},
		{&cfg.Directory, path.Root("directory"), EnvDirectory},
		{&cfg.Token, path.Root("token"), EnvToken},
		{&cfg.SSHPrivateKey, path.Root("ssh_private_key"), EnvSSHPrivateKey},
		{&author.Name, path.Root("author").AtName("name"), EnvAuthorName},
		{&author.Email, path.Root("author").AtName("email"), EnvAuthorEmail},
	}
	resolved := map[string]string{}
	for _, s := range settings {
		if s.value.IsUnknown() {
			resp.Diagnostics.AddAttributeError(s.path, "Unknown provider setting",
				"The provider needs "+s.path.String()+" while planning, but its value is only known after apply. "+
					"Use a literal, a variable, or the "+s.env+" environment variable.")
			continue
		}
		v := s.value.ValueString()
		if v == "" {
			v = p.getenv(s.env)
		}
		resolved[s.env] = v
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if resolved[EnvRepository] == "" {
		resp.Diagnostics.AddAttributeError(path.Root("repository"), "Missing catalog repository",
			"Set repository in the provider block, or the "+EnvRepository+" environment variable, to a local path or a file://, https:// or ssh:// URL of the catalog repository.")
		return
	}
	data := &providerData{opts: catalogstore.Options{
		Repository:    resolved[EnvRepository],
		Branch:        resolved[EnvBranch],
		Directory:     resolved[EnvDirectory],
		Token:         resolved[EnvToken],
		SSHPrivateKey: resolved[EnvSSHPrivateKey],
		AuthorName:    resolved[EnvAuthorName],
		AuthorEmail:   resolved[EnvAuthorEmail],
	}}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func (p *remediationProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewRunbookResource, NewPolicyResource}
}

func (p *remediationProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewCatalogDataSource, NewRouteDataSource}
}

func (p *remediationProvider) Functions(_ context.Context) []func() function.Function {
	return []func() function.Function{NewMatchesFunction}
}
