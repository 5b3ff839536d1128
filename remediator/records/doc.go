// Package records reads and seals the remediator's Git records: the notes refs it
// keeps on the infrastructure repository (approvals, check reports, outcomes,
// verification progress, evidence, rejections, closings), the provenance of a
// proposal head or a merge, the terms a proposal is judged by, and each runbook
// version's track record and the autonomy it earned. It is the read model every
// reader shares (the audit, the status page, the provider's route data source,
// propose's cooldowns); the reconcile engine that writes most of these records is
// package lifecycle, which imports this one and never the other way round.
//
// Everything read here came from a Git repository others can push to: a record
// counts only when the remediator's (or a listed reviewer's or reporter's) key
// signed it for the exact commit it annotates; see remediator/TRUST.md.
package records
