package lifecycle

import (
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// witness collects the tips the remediator's signed merges (newest first) commit to.
func (r *Reconciler) witness(merges []*object.Commit) *records.Witness {
	w := records.NewWitness(r.Infra.Storer(), records.CurrentTips(r.Infra))
	for _, m := range merges {
		w.AddSigned(m, r.Infra.Signer.Public())
	}
	return w
}
