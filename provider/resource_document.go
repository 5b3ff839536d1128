package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// documentModel is what the model of a catalog resource provides.
type documentModel[M any] interface {
	*M
	toDocument() runbooks.Document
	// keepSpellings carries the configuration's spelling of values the catalog
	// stores canonically (durations) into state.
	keepSpellings(prior *M)
}

// documentResource is the lifecycle shared by remediation_runbook and
// remediation_policy: each write is one catalog write, Read follows the file in Git
// (drift shows as a diff, a deleted file is planned again), import is by name.
type documentResource[M any, PM documentModel[M]] struct {
	data    *providerData
	kind    string
	renames map[string]string // catalog field paths that the schema flattens
	toModel func(doc runbooks.Document, dir string) M
}

func (r *documentResource[M, PM]) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs the catalog's own validation (matchers, CEL, templates, paths,
// time zones) at validate and plan time, so that a bad document never reaches a commit.
func (r *documentResource[M, PM]) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	if !req.Config.Raw.IsFullyKnown() {
		return // checked again at apply, once every value is known
	}
	var m M
	if diags := req.Config.Get(ctx, &m); diags.HasError() {
		return
	}
	addDocumentErrors(&resp.Diagnostics, validateDocument(PM(&m).toDocument()), r.renames)
}

func validateDocument(doc runbooks.Document) runbooks.Errors {
	switch d := doc.(type) {
	case *runbooks.Runbook:
		return d.Validate()
	case *runbooks.Policy:
		return d.Validate()
	}
	return nil
}

// apply validates and writes the planned document and returns the state to record.
func (r *documentResource[M, PM]) apply(ctx context.Context, plan *M, create bool, diags *diag.Diagnostics) (M, bool) {
	doc := PM(plan).toDocument()
	kind, name := strings.ToLower(r.kind), doc.DocumentName()
	// Validated and encoded once, here: the write commits what was checked.
	prepared, err := catalogstore.Prepare(doc)
	if errs := runbooks.Errors(nil); errors.As(err, &errs) {
		addDocumentErrors(diags, errs, r.renames)
		return *plan, false
	}
	if err != nil {
		diags.AddError("Cannot encode "+kind+" "+name, err.Error())
		return *plan, false
	}
	verb := "update"
	if create {
		verb = "create"
	}
	diags.Append(r.data.write(ctx, verb+" "+kind+" "+name, func(s *catalogstore.Store) (catalogstore.Result, error) {
		if !create {
			return s.PutPrepared(ctx, prepared)
		}
		res, err := s.CreatePrepared(ctx, prepared)
		if errors.Is(err, catalogstore.ErrExists) {
			err = fmt.Errorf("%w: a %s named %q is already in the catalog; import it with terraform import, or choose another name", err, kind, name)
		}
		return res, err
	})...)
	if diags.HasError() {
		return *plan, false
	}
	state := r.toModel(doc, r.data.directory())
	PM(&state).keepSpellings(plan)
	return state, true
}

func (r *documentResource[M, PM]) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state, ok := r.apply(ctx, &plan, true, &resp.Diagnostics); ok {
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	}
}

func (r *documentResource[M, PM]) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state, ok := r.apply(ctx, &plan, false, &resp.Diagnostics); ok {
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	}
}

func (r *documentResource[M, PM]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var prior M
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	var name types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() {
		return
	}
	doc, found, diags := r.data.readDocument(ctx, r.kind, name.ValueString())
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !found {
		// Deleted in Git: plan to create it again.
		resp.State.RemoveResource(ctx)
		return
	}
	state := r.toModel(doc, r.data.directory())
	PM(&state).keepSpellings(&prior)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *documentResource[M, PM]) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var name types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(r.data.write(ctx, "delete "+strings.ToLower(r.kind)+" "+name.ValueString(), func(s *catalogstore.Store) (catalogstore.Result, error) {
		return s.Delete(ctx, r.kind, name.ValueString())
	})...)
}

func (r *documentResource[M, PM]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if err := runbooks.CheckName(req.ID); err != nil {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("Import a %s by its name. %v", strings.ToLower(r.kind), err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), req.ID)...)
}
