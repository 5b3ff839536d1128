package main

import (
	"context"
	"fmt"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks/catalogstore"
)

// loadCatalog reads the catalog the configuration names, at the head of its branch,
// and compiles its router. An invalid catalog is bad input.
func loadCatalog(ctx context.Context, cfg *config.Config) (*runbooks.Catalog, *runbooks.Router, error) {
	store, err := catalogstore.Open(ctx, catalogstore.Options{
		Repository: cfg.Catalog.Repository, Branch: cfg.Catalog.Branch, Directory: cfg.Catalog.Directory,
		Token: config.Secret(cfg.Catalog.TokenEnv),
	})
	if err != nil {
		return nil, nil, err
	}
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	cat, err := snap.Catalog()
	if err != nil {
		return nil, nil, badInput(fmt.Errorf("catalog at %s: %w", snap.Head, err))
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		return nil, nil, badInput(err)
	}
	return cat, router, nil
}
