//go:build !benchfloor

package provider

// skipCatalogWrite is true only in the apply benchmark's floor build (write_floor.go).
const skipCatalogWrite = false
