package decision

import (
	"fmt"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Bounds are the remediator's own limits on proposals, over every policy: what keeps
// an alert storm from becoming a pull-request storm when a policy sets no limits.
// Zero fields are no bound.
type Bounds struct {
	MaxOpen           int
	PerHour           int
	MaxOpenPerRunbook int
	PerHourPerRunbook int
	// Lease is how long a reservation counts as open before its proposal is
	// opened (limits.reservation_lease); zero is the default lease, never none.
	Lease time.Duration
}

// Any says whether any bound is set.
func (b Bounds) Any() bool {
	return b.MaxOpen > 0 || b.PerHour > 0 || b.MaxOpenPerRunbook > 0 || b.PerHourPerRunbook > 0
}

// Counts are the proposals a limit is counted from: open now, and opened in the
// last hour, in all, under the policy and of the runbook.
type Counts struct {
	Open, Hour, PolicyOpen, PolicyHour, RunbookOpen, RunbookHour int
}

// Add counts one proposal.
func (c *Counts) Add(open, lastHour, samePolicy, sameRunbook bool) {
	inc := func(cond bool, n *int) {
		if cond {
			*n++
		}
	}
	inc(open, &c.Open)
	inc(lastHour, &c.Hour)
	inc(open && samePolicy, &c.PolicyOpen)
	inc(lastHour && samePolicy, &c.PolicyHour)
	inc(open && sameRunbook, &c.RunbookOpen)
	inc(lastHour && sameRunbook, &c.RunbookHour)
}

// OverLimit says which limit one more proposal of the runbook under the policy
// would break, or "": the policy's max_open and per_hour, then the remediator's.
// The reason is built only for the limit broken: replay asks this of every anomaly.
func OverLimit(pol *runbooks.Policy, runbook string, g Bounds, c Counts) string {
	limits := pol.Spec.Limits
	over := func(limit, have int) bool { return limit > 0 && have >= limit }
	say := func(have int, what, name string, limit int) string {
		return fmt.Sprintf("limit: %d %s (%s %d)", have, what, name, limit)
	}
	switch {
	case over(limits.MaxOpen, c.PolicyOpen):
		return say(c.PolicyOpen, "proposals already open under policy "+pol.Metadata.Name, "max_open", limits.MaxOpen)
	case over(limits.PerHour, c.PolicyHour):
		return say(c.PolicyHour, "proposals opened in the last hour under policy "+pol.Metadata.Name, "per_hour", limits.PerHour)
	case over(g.MaxOpen, c.Open):
		return say(c.Open, "proposals already open in all", "limits.max_open of the remediator", g.MaxOpen)
	case over(g.PerHour, c.Hour):
		return say(c.Hour, "proposals opened in the last hour in all", "limits.per_hour of the remediator", g.PerHour)
	case over(g.MaxOpenPerRunbook, c.RunbookOpen):
		return say(c.RunbookOpen, "proposals of runbook "+runbook+" already open", "limits.max_open_per_runbook of the remediator", g.MaxOpenPerRunbook)
	case over(g.PerHourPerRunbook, c.RunbookHour):
		return say(c.RunbookHour, "proposals of runbook "+runbook+" opened in the last hour", "limits.per_hour_per_runbook of the remediator", g.PerHourPerRunbook)
	}
	return ""
}
