package main

import (
	"context"
	"fmt"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/propose"
)

// reproposer proposes a superseded proposal's anomaly again, as its next alert
// would: through the proposer, under the catalog of the pass.
type reproposer struct{ p *propose.Proposer }

func (r reproposer) Repropose(ctx context.Context, art *artifact.Artifact) (string, error) {
	a := art.Anomaly
	started, _ := time.Parse(time.RFC3339, a.StartsAt)
	res, err := r.p.Propose(ctx, intake.Anomaly{
		Labels: a.Labels, Annotations: a.Annotations, Value: a.Value, Status: intake.StatusFiring,
		StartsAt: started, Source: a.Source, Fingerprint: a.Fingerprint,
	}, false)
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("%s %s", res.Action, res.Branch)
	if res.Reason != "" {
		out += " (" + res.Reason + ")"
	}
	return out, nil
}
