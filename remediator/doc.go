// Package remediator is the root of the remediation pipeline. Each stage lives in a
// package of its own beneath it (intake, routing and decision, edits, Git operations,
// forges, lifecycle, plan check, audit, HTTP server), so that the tree answers "where
// is X done". The catalog domain they share lives in package runbooks.
package remediator
