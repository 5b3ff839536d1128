package status

import (
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/audit"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// timeTo is the remediation's time to remediate, as `audit` tells it: from the
// anomaly's start to the proposal, the merge and the verified outcome the timeline
// shows.
func (r *Remediation) timeTo(art *artifact.Artifact, merge *object.Commit) *audit.TimeTo {
	var merged, verified time.Time
	if merge != nil {
		merged = merge.Committer.When
	}
	for _, e := range r.Timeline {
		if strings.HasPrefix(e.What, string(forge.OutcomeVerified)+": ") {
			verified = e.At
		}
	}
	return audit.NewTimeTo(art, merged, verified)
}
