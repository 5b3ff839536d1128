package main

import (
	"context"
	"fmt"
	"os"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// loadCatalog reads the catalog the configuration names, at the head of its branch,
// and compiles its router. An invalid catalog is bad input.
func loadCatalog(ctx context.Context, cfg *config.Config) (*runbooks.Catalog, *runbooks.Router, error) {
	cat, _, err := loadCatalogAt(ctx, cfg, "")
	if err != nil {
		return nil, nil, err
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		return nil, nil, badInput(err)
	}
	return cat, router, nil
}

// loadCatalogAt reads the catalog from a checkout directory, a ref of the catalog
// repository, or (empty) its published branch, and says which it read.
func loadCatalogAt(ctx context.Context, cfg *config.Config, which string) (*runbooks.Catalog, string, error) {
	if which != "" {
		if st, err := os.Stat(which); err == nil && st.IsDir() {
			dir := cfg.Catalog.Directory
			if dir == "" {
				dir = catalogstore.DefaultDirectory
			}
			cat, err := runbooks.LoadFS(os.DirFS(which), dir)
			if err != nil {
				return nil, "", badInput(fmt.Errorf("catalog in %s: %w", which, err))
			}
			return cat, which, nil
		}
	}
	store, err := catalogstore.Open(ctx, catalogstore.Options{
		Repository: cfg.Catalog.Repository, Branch: cfg.Catalog.Branch, Directory: cfg.Catalog.Directory,
		Token: config.Secret(cfg.Catalog.TokenEnv),
	})
	if err != nil {
		return nil, "", err
	}
	name := which
	if which == "" {
		name = store.Branch()
	}
	snap, err := store.SnapshotAt(ctx, which) // "" is the published branch
	if err != nil {
		if which != "" {
			// The repository answered (Open fetched it): the ref is what is wrong.
			return nil, "", badInput(fmt.Errorf("catalog %q: neither a directory nor a ref of %s: %w", which, cfg.Catalog.Repository, err))
		}
		return nil, "", err
	}
	cat, err := snap.Catalog()
	if err != nil {
		return nil, "", badInput(fmt.Errorf("catalog at %s: %w", snap.Head, err))
	}
	return cat, name, nil
}
