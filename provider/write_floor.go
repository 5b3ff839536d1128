//go:build benchfloor

package provider

// skipCatalogWrite: built with -tags benchfloor (by the apply benchmark only), the
// provider does everything an apply does except the catalog write: the benchmark's
// floor, what the apply would cost if writing the catalog cost nothing.
const skipCatalogWrite = true
