package runbooks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// Anomaly is what routing sees of a detected anomaly.
type Anomaly struct {
	Labels      map[string]string
	Annotations map[string]string
	Value       float64
}

// RunbookMatch is one runbook that would handle an anomaly, with what its policy
// demands of the proposal.
type RunbookMatch struct {
	Runbook *Runbook
	// Target names what is remediated: the runbook's group_by labels and their values,
	// such as "cluster=eu1,service=api". With the runbook name it is the dedupe key.
	Target            string
	Risk              Risk
	RequiredApprovals int
	// AutoMerge says the policy lets this risk tier merge without a human; the runbook
	// must still have MinVerifiedRuns verified successes in Git history.
	AutoMerge       bool
	MinVerifiedRuns int
}

// Skipped is a runbook whose matchers matched but which does not handle the anomaly.
type Skipped struct {
	Runbook *Runbook
	Reason  string
}

// Decision is the routing of one anomaly.
type Decision struct {
	// Matches are the runbooks that handle the anomaly, most specific first. Disabled
	// runbooks are included (Runbook.Spec.Enabled false): the caller records why it
	// skips them.
	Matches []RunbookMatch
	// Skipped are runbooks whose condition was false or failed to evaluate.
	Skipped []Skipped
	// Policy governs the anomaly: the selected policy of highest priority, or
	// DefaultPolicy when none selects it.
	Policy *Policy
}

// DefaultPolicyName names the built-in policy that governs anomalies no policy selects.
const DefaultPolicyName = "builtin-default"

// DefaultPolicy requires approvals rising with risk and lets nothing auto-merge: the
// safe choice when a catalog has no policy for an anomaly.
func DefaultPolicy() *Policy {
	p := newPolicy()
	p.APIVersion, p.Kind, p.Metadata.Name = APIVersion, KindPolicy, DefaultPolicyName
	p.Spec.Description = "Built-in: used when no policy's selector matches the anomaly."
	return p
}

type routeEntry struct {
	rb        *Runbook
	matchers  labels.Matchers
	condition *Expr
}

type policyEntry struct {
	p        *Policy
	matchers labels.Matchers
}

// Router routes anomalies over one catalog revision. Runbooks with an equality matcher
// are indexed by one of them, so that routing touches only runbooks that can match;
// the rest are scanned. It is safe for concurrent use.
type Router struct {
	entries  []routeEntry // in specificity order
	index    map[string]map[string][]int
	scan     []int
	policies []policyEntry // in precedence order
	dflt     *Policy
}

// NewRouter compiles every matcher and condition of the catalog.
func NewRouter(c *Catalog) (*Router, error) {
	r := &Router{index: map[string]map[string][]int{}, dflt: DefaultPolicy()}
	var errs Errors
	for _, rb := range c.Runbooks {
		ms, err := ParseMatchers(rb.Spec.Trigger.Matchers)
		if err != nil {
			errs = append(errs, &Error{File: rb.Metadata.Name, Field: "spec.trigger.matchers", Msg: err.Error()})
			continue
		}
		e := routeEntry{rb: rb, matchers: ms}
		if src := rb.Spec.Trigger.Condition; src != "" {
			if e.condition, err = CompileCondition(src); err != nil {
				errs = append(errs, &Error{File: rb.Metadata.Name, Field: "spec.trigger.condition", Msg: err.Error()})
				continue
			}
		}
		r.entries = append(r.entries, e)
	}
	for _, p := range c.Policies {
		ms, err := ParseMatchers(p.Spec.Selector.Matchers)
		if err != nil {
			errs = append(errs, &Error{File: p.Metadata.Name, Field: "spec.selector.matchers", Msg: err.Error()})
			continue
		}
		r.policies = append(r.policies, policyEntry{p: p, matchers: ms})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sort.SliceStable(r.entries, func(i, j int) bool { return moreSpecific(r.entries[i], r.entries[j]) })
	sort.SliceStable(r.policies, func(i, j int) bool {
		a, b := r.policies[i].p, r.policies[j].p
		if a.Spec.Priority != b.Spec.Priority {
			return a.Spec.Priority > b.Spec.Priority
		}
		return a.Metadata.Name < b.Metadata.Name
	})
	for i, e := range r.entries {
		if m := anchor(e.matchers); m != nil {
			byValue := r.index[m.Name]
			if byValue == nil {
				byValue = map[string][]int{}
				r.index[m.Name] = byValue
			}
			byValue[m.Value] = append(byValue[m.Value], i)
		} else {
			r.scan = append(r.scan, i)
		}
	}
	return r, nil
}

// moreSpecific orders runbooks: more equality matchers, then more matchers, then name.
func moreSpecific(a, b routeEntry) bool {
	ae, be := countEqual(a.matchers), countEqual(b.matchers)
	if ae != be {
		return ae > be
	}
	if len(a.matchers) != len(b.matchers) {
		return len(a.matchers) > len(b.matchers)
	}
	return a.rb.Metadata.Name < b.rb.Metadata.Name
}

func countEqual(ms labels.Matchers) int {
	n := 0
	for _, m := range ms {
		if m.Type == labels.MatchEqual {
			n++
		}
	}
	return n
}

// anchor picks the equality matcher to index a runbook by: alertname when there is
// one, as it is the most selective label in practice, else the first by name. A
// matcher for the empty value also matches an absent label, so it cannot anchor.
func anchor(ms labels.Matchers) *labels.Matcher {
	var best *labels.Matcher
	for _, m := range ms {
		if m.Type != labels.MatchEqual || m.Value == "" {
			continue
		}
		if m.Name == "alertname" {
			return m
		}
		if best == nil || m.Name < best.Name {
			best = m
		}
	}
	return best
}

// Route decides which runbooks handle the anomaly and which policy governs it.
func (r *Router) Route(a Anomaly) Decision {
	var cand []int
	for name, value := range a.Labels {
		if byValue, ok := r.index[name]; ok {
			cand = append(cand, byValue[value]...)
		}
	}
	cand = append(cand, r.scan...)
	sort.Ints(cand)
	return r.decide(a, cand)
}

// routeLinear is Route without the index: every runbook is tried. It is the reference
// that tests and benchmarks compare Route against.
func (r *Router) routeLinear(a Anomaly) Decision {
	all := make([]int, len(r.entries))
	for i := range all {
		all[i] = i
	}
	return r.decide(a, all)
}

func (r *Router) decide(a Anomaly, cand []int) Decision {
	d := Decision{Policy: r.policyFor(a.Labels)}
	for _, i := range cand {
		e := &r.entries[i]
		if !matchLabels(e.matchers, a.Labels) {
			continue
		}
		if e.condition != nil {
			ok, err := e.condition.EvalBool(ExprInput{Labels: a.Labels, Annotations: a.Annotations, Value: a.Value})
			if err != nil {
				d.Skipped = append(d.Skipped, Skipped{Runbook: e.rb, Reason: fmt.Sprintf("condition failed: %v", err)})
				continue
			}
			if !ok {
				d.Skipped = append(d.Skipped, Skipped{Runbook: e.rb, Reason: "condition is false"})
				continue
			}
		}
		risk := e.rb.Spec.Risk
		d.Matches = append(d.Matches, RunbookMatch{
			Runbook:           e.rb,
			Target:            Target(e.rb, a.Labels),
			Risk:              risk,
			RequiredApprovals: d.Policy.Spec.Approvals.For(risk),
			AutoMerge:         d.Policy.Spec.AutoMerge.Allows(risk),
			MinVerifiedRuns:   d.Policy.Spec.AutoMerge.MinVerifiedRuns,
		})
	}
	return d
}

func (r *Router) policyFor(lset map[string]string) *Policy {
	for _, p := range r.policies {
		if matchLabels(p.matchers, lset) {
			return p.p
		}
	}
	return r.dflt
}

// Target renders the runbook's group_by labels of an anomaly, in group_by order.
func Target(rb *Runbook, lset map[string]string) string {
	parts := make([]string, len(rb.Spec.Trigger.GroupBy))
	for i, l := range rb.Spec.Trigger.GroupBy {
		parts[i] = l + "=" + lset[l]
	}
	return strings.Join(parts, ",")
}
