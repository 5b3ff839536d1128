// Package lifecycle moves proposals on: approvals counted for the exact head commit,
// the gates a merge must pass, the merge itself with its trailers, the verification
// of a merged remediation and the outcome recorded afterwards, restoring deleted
// records, superseding and closing proposals. It is the reconcile engine; the
// records it reads and seals (refs, notes, provenance, terms, track records) are
// package records.
package lifecycle
