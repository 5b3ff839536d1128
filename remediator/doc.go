// Package remediator is the root of the remediation pipeline. Each stage lives in a
// package of its own beneath it (intake, routing and decision, edits, Git operations,
// forges, records and lifecycle, plan check, audit, HTTP server), so that the tree answers "where
// is X done". The catalog domain they share lives in package runbooks.
// ARCHITECTURE.md at the repository's root maps the stages, the one-way order of
// their imports (layers_test.go holds it) and where a new forge, change kind or
// intake format plugs in.
//
// TRUST.md beside this file names the rules that keep the remediator from merging
// anything it did not make under the catalog's terms: "the catalog decides", "the
// remediator merges only its own tree", "the diff stays in scope", "an approval is an
// identity", "the merge is a compare-and-swap", "fail closed" and "the audit proves it
// from Git alone". Code refers to them by these names.
package remediator
