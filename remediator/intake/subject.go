package intake

import "github.com/gitops-remediation/terraform-provider-remediation/runbooks"

// Subject is the anomaly as runbooks see it (routing, conditions, templates and
// edits): its labels, annotations and value. The one conversion from the intake's
// record.
func (a Anomaly) Subject() runbooks.Anomaly {
	return runbooks.Anomaly{Labels: a.Labels, Annotations: a.Annotations, Value: a.Value}
}
