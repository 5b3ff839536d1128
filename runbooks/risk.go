package runbooks

import "fmt"

// Risk is a runbook's risk tier; it decides how many approvals a proposal needs.
type Risk string

// Risk tiers, lowest first.
const (
	RiskLow      Risk = "low"
	RiskMedium   Risk = "medium"
	RiskHigh     Risk = "high"
	RiskCritical Risk = "critical"
)

// AutoMergeNone is the auto_merge.max_risk value that lets nothing merge without a human.
const AutoMergeNone = "none"

// Risks lists every tier, lowest first.
func Risks() []Risk { return []Risk{RiskLow, RiskMedium, RiskHigh, RiskCritical} }

// Rank orders tiers: low 1 ... critical 4; an unknown tier ranks 0.
func (r Risk) Rank() int {
	for i, t := range Risks() {
		if r == t {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r is one of the four tiers.
func (r Risk) Valid() bool { return r.Rank() > 0 }

// For returns the approvals required for a risk tier.
func (a Approvals) For(r Risk) int {
	switch r {
	case RiskLow:
		return a.Low
	case RiskMedium:
		return a.Medium
	case RiskHigh:
		return a.High
	default:
		// Unknown tiers are treated as critical: fail closed.
		return a.Critical
	}
}

// Allows reports whether a proposal of risk r may merge without a human, before the
// runbook's verified-run history is considered.
func (m AutoMerge) Allows(r Risk) bool {
	if m.MaxRisk == AutoMergeNone || m.MaxRisk == "" {
		return false
	}
	limit := Risk(m.MaxRisk).Rank()
	return limit > 0 && r.Valid() && r.Rank() <= limit
}

func riskChoices() string {
	return fmt.Sprintf("%s, %s, %s or %s", RiskLow, RiskMedium, RiskHigh, RiskCritical)
}
