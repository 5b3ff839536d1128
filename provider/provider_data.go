package provider

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitauth"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// snapshotMaxAge is how long one fetched catalog serves reads. A refresh of many
// resources then costs one fetch rather than one each; writes invalidate it.
const snapshotMaxAge = 2 * time.Second

// providerData is shared by every resource and data source of one provider instance.
type providerData struct {
	opts catalogstore.Options

	mu     sync.Mutex
	store  *catalogstore.Store
	snap   *catalogstore.Snapshot
	snapAt time.Time
}

// directory is the catalog directory inside the repository.
func (d *providerData) directory() string {
	if d.opts.Directory == "" {
		return catalogstore.DefaultDirectory
	}
	return d.opts.Directory
}

// Store opens the catalog repository on first use, so that a plan touching no
// catalog resource never contacts it.
func (d *providerData) Store(ctx context.Context) (*catalogstore.Store, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.storeLocked(ctx)
}

func (d *providerData) storeLocked(ctx context.Context) (*catalogstore.Store, error) {
	if d.store != nil {
		return d.store, nil
	}
	s, err := catalogstore.Open(ctx, d.opts)
	if err != nil {
		return nil, err
	}
	d.store = s
	return s, nil
}

// Snapshot returns a recent catalog snapshot, fetching when the last one is too old.
func (d *providerData) Snapshot(ctx context.Context) (*catalogstore.Snapshot, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.snap != nil && time.Since(d.snapAt) < snapshotMaxAge {
		return d.snap, nil
	}
	s, err := d.storeLocked(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	d.snap, d.snapAt = snap, time.Now()
	return snap, nil
}

// invalidate drops the cached snapshot after a write.
func (d *providerData) invalidate() {
	d.mu.Lock()
	d.snap = nil
	d.mu.Unlock()
}

// write runs one catalog write and reports failure as a diagnostic.
func (d *providerData) write(ctx context.Context, what string, fn func(*catalogstore.Store) (catalogstore.Result, error)) diag.Diagnostics {
	var diags diag.Diagnostics
	if skipCatalogWrite {
		return diags
	}
	s, err := d.Store(ctx)
	if err != nil {
		diags.AddError("Cannot open the catalog repository",
			fmt.Sprintf("Opening %s failed. Check the provider's repository, branch and credentials.\n\n%v", gitauth.RedactURL(d.opts.Repository), err))
		return diags
	}
	_, err = fn(s)
	d.invalidate()
	if err != nil {
		diags.AddError("Cannot "+what,
			fmt.Sprintf("Writing to the catalog repository failed; nothing of this change was committed unless the error says it may still be pushed.\n\n%v", err))
	}
	return diags
}

// readDocument reads one document for a resource's Read.
func (d *providerData) readDocument(ctx context.Context, kind, name string) (runbooks.Document, bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	snap, err := d.Snapshot(ctx)
	if err != nil {
		diags.AddError("Cannot read the catalog repository",
			fmt.Sprintf("Fetching %s failed. Check the provider's repository, branch and credentials.\n\n%v", gitauth.RedactURL(d.opts.Repository), err))
		return nil, false, diags
	}
	doc, found, err := snap.Get(kind, name)
	if err != nil {
		diags.AddError("Invalid catalog file in Git",
			fmt.Sprintf("The file of %s %q was changed in Git and no longer decodes. Fix or delete the file in the catalog repository, then plan again.\n\n%v", kind, name, err))
		return nil, true, diags
	}
	return doc, found, diags
}

func providerDataFrom(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil // not configured yet: the framework calls Configure before CRUD
	}
	d, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider.", data))
		return nil
	}
	return d
}
