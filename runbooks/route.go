package runbooks

import (
	"fmt"
	"slices"
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

// Routing is the routing of one anomaly: which runbooks match it and which policy
// governs it. What the remediator then does about it is decision.Decision.
type Routing struct {
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
	rb       *Runbook
	matchers labels.Matchers
	fast     []fastMatcher
	// unproven are the matchers that finding the entry through the index does not
	// prove: all but an exact-value anchor (see anchor).
	unproven  []fastMatcher
	condition *Expr
	// group numbers the entry's group_by list: entries with equal lists share it.
	group int
}

type policyEntry struct {
	p        *Policy
	matchers labels.Matchers
	fast     []fastMatcher
}

// Router routes anomalies over one catalog revision. Runbooks with an equality matcher
// are indexed by one of them, so that routing touches only runbooks that can match;
// the rest are scanned. It is safe for concurrent use.
type Router struct {
	entries []routeEntry // in specificity order
	// index: label name -> exact value -> entries; from equality matchers and regexes
	// that are a set of literals (env=~"prod|staging").
	index map[string]map[string][]int
	// prefixes: label name -> entries whose regex starts with a literal (svc-1.*).
	prefixes map[string]*prefixIndex
	// scan: entries with nothing to index by; tried for every anomaly.
	scan     []int
	policies []policyEntry // in precedence order
	dflt     *Policy
}

// NewRouter compiles every matcher and condition of the catalog.
func NewRouter(c *Catalog) (*Router, error) {
	r := &Router{index: map[string]map[string][]int{}, prefixes: map[string]*prefixIndex{}, dflt: DefaultPolicy()}
	var errs Errors
	for _, rb := range c.Runbooks {
		ms, err := ParseMatchers(rb.Spec.Trigger.Matchers)
		if err != nil {
			errs = append(errs, &Error{File: rb.Metadata.Name, Field: "spec.trigger.matchers", Msg: err.Error()})
			continue
		}
		e := routeEntry{rb: rb, matchers: ms, fast: compileMatchers(ms)}
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
		r.policies = append(r.policies, policyEntry{p: p, matchers: ms, fast: compileMatchers(ms)})
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
	groups := map[string]int{}
	for i := range r.entries {
		e := &r.entries[i]
		key := strings.Join(e.rb.Spec.Trigger.GroupBy, "\x00")
		if _, ok := groups[key]; !ok {
			groups[key] = len(groups) + 1
		}
		e.group = groups[key]
		a := anchor(e.matchers)
		r.add(i, a)
		e.unproven = e.fast
		if len(a.values) > 0 {
			// An entry indexed by exact values is found only under the anomaly's
			// value of that label, which the anchor's matcher accepts.
			e.unproven = append(slices.Clip(e.fast[:a.matcher]), e.fast[a.matcher+1:]...)
		}
	}
	return r, nil
}

func (r *Router) add(i int, a anchorKey) {
	switch {
	case len(a.values) > 0:
		byValue := r.index[a.name]
		if byValue == nil {
			byValue = map[string][]int{}
			r.index[a.name] = byValue
		}
		for _, v := range a.values {
			byValue[v] = append(byValue[v], i)
		}
	case a.prefix != "":
		px := r.prefixes[a.name]
		if px == nil {
			px = &prefixIndex{byPrefix: map[string][]int{}}
			r.prefixes[a.name] = px
		}
		px.add(a.prefix, i)
	default:
		r.scan = append(r.scan, i)
	}
}

// prefixIndex finds entries by a literal prefix of a label value.
type prefixIndex struct {
	lengths  []int // distinct prefix lengths, ascending
	byPrefix map[string][]int
}

func (p *prefixIndex) add(prefix string, i int) {
	if _, ok := p.byPrefix[prefix]; !ok {
		n := len(prefix)
		j := sort.SearchInts(p.lengths, n)
		if j == len(p.lengths) || p.lengths[j] != n {
			p.lengths = append(p.lengths[:j], append([]int{n}, p.lengths[j:]...)...)
		}
	}
	p.byPrefix[prefix] = append(p.byPrefix[prefix], i)
}

func (p *prefixIndex) lookup(v string, into []int) []int {
	for _, n := range p.lengths {
		if n > len(v) {
			break
		}
		into = append(into, p.byPrefix[v[:n]]...)
	}
	return into
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

// anchorKey is what a runbook is indexed by: one label and either the exact values
// it must have or a literal prefix of its value. Zero means "scan".
type anchorKey struct {
	name   string
	values []string
	prefix string
	// matcher is the index of the matcher the key was read from.
	matcher int
}

// anchor picks the matcher to index a runbook by. Exact values beat prefixes; among
// equals, alertname wins, as the most selective label in practice, then label name.
// Only positive matchers that cannot match the empty value (an absent label) anchor.
func anchor(ms labels.Matchers) anchorKey {
	var best anchorKey
	rank := func(a anchorKey) int {
		switch {
		case len(a.values) == 1 && a.name == "alertname":
			return 4
		case len(a.values) == 1:
			return 3
		case len(a.values) > 1:
			return 2
		case a.prefix != "":
			return 1
		}
		return 0
	}
	for i, m := range ms {
		var k anchorKey
		switch m.Type {
		case labels.MatchEqual:
			if m.Value != "" {
				k = anchorKey{name: m.Name, values: []string{m.Value}}
			}
		case labels.MatchRegexp:
			k = regexAnchor(m.Name, m.Value)
		}
		if r, br := rank(k), rank(best); r > br || (r == br && r > 0 && k.name < best.name) {
			best = k
			best.matcher = i
		}
	}
	return best
}

// regexAnchor reads what an Alertmanager regex (anchored at both ends) requires: a
// set of literal values ("prod|staging") or a literal prefix ("svc-1.*"). A regex
// that may match the empty value anchors nothing: an absent label reads as "".
func regexAnchor(name, expr string) anchorKey {
	shape, ok := readRegexShape(expr)
	if !ok {
		return anchorKey{}
	}
	if len(shape.values) > 0 {
		for _, v := range shape.values {
			if v == "" {
				return anchorKey{}
			}
		}
		return anchorKey{name: name, values: shape.values}
	}
	return anchorKey{name: name, prefix: shape.prefix}
}

// Route decides which runbooks handle the anomaly and which policy governs it.
func (r *Router) Route(a Anomaly) Routing {
	var cand []int
	for name, value := range a.Labels {
		if byValue, ok := r.index[name]; ok {
			cand = append(cand, byValue[value]...)
		}
		if px, ok := r.prefixes[name]; ok {
			cand = px.lookup(value, cand)
		}
	}
	cand = append(cand, r.scan...)
	sort.Ints(cand)
	return r.decide(a, cand, true)
}

// routeLinear is Route without the index: every runbook is tried. It is the reference
// that tests and benchmarks compare Route against.
func (r *Router) routeLinear(a Anomaly) Routing {
	all := make([]int, len(r.entries))
	for i := range all {
		all[i] = i
	}
	return r.decide(a, all, false)
}

// decide routes an anomaly over candidate entries; indexed says they were found
// through the index, so that the matchers it proved need no second look.
func (r *Router) decide(a Anomaly, cand []int, indexed bool) Routing {
	d := Routing{Policy: r.policyFor(a.Labels)}
	// The matchers first, filtering cand in place (it is the caller's own slice), so
	// that the matches are allocated once, at their size.
	matched := cand[:0]
	for _, i := range cand {
		ms := r.entries[i].fast
		if indexed {
			ms = r.entries[i].unproven
		}
		if matchFast(ms, a.Labels) {
			matched = append(matched, i)
		}
	}
	d.Matches = make([]RunbookMatch, 0, len(matched))
	var targets targetMemo
	for _, i := range matched {
		e := &r.entries[i]
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
			Target:            targets.of(e, a.Labels),
			Risk:              risk,
			RequiredApprovals: d.Policy.Spec.Approvals.For(risk),
			AutoMerge:         d.Policy.Spec.AutoMerge.Allows(risk),
			MinVerifiedRuns:   d.Policy.Spec.AutoMerge.MinVerifiedRuns,
		})
	}
	if len(d.Matches) == 0 {
		d.Matches = nil
	}
	return d
}

// targetMemo renders each runbook's target of one anomaly, reusing the last one for
// a runbook with the same group_by: most of a catalog groups by the same labels.
type targetMemo struct {
	group  int // 0: none yet
	target string
}

func (m *targetMemo) of(e *routeEntry, lset map[string]string) string {
	if m.group != e.group {
		m.group, m.target = e.group, Target(e.rb, lset)
	}
	return m.target
}

func (r *Router) policyFor(lset map[string]string) *Policy {
	for _, p := range r.policies {
		if matchFast(p.fast, lset) {
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
