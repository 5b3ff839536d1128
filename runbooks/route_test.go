package runbooks

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func testRunbook(name string, risk Risk, matchers ...string) *Runbook {
	rb := newRunbook()
	rb.APIVersion, rb.Kind, rb.Metadata.Name = APIVersion, KindRunbook, name
	rb.Spec.Risk = risk
	rb.Spec.Trigger.Matchers = matchers
	rb.Spec.Trigger.GroupBy = []string{"service"}
	rb.Spec.Changes = []Change{{Kind: ChangeHCL, File: "envs/{{ .labels.service }}.tfvars", Path: "replicas", Value: "current + 1"}}
	return rb
}

func testPolicy(name string, priority int, matchers ...string) *Policy {
	p := newPolicy()
	p.APIVersion, p.Kind, p.Metadata.Name = APIVersion, KindPolicy, name
	p.Spec.Priority = priority
	p.Spec.Selector.Matchers = matchers
	return p
}

func mustRouter(t testing.TB, rbs []*Runbook, ps []*Policy) *Router {
	t.Helper()
	for _, rb := range rbs {
		if errs := rb.Validate(); len(errs) > 0 {
			t.Fatalf("%s: %v", rb.Metadata.Name, errs)
		}
	}
	c, err := NewCatalog(rbs, ps)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRouter(c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func names(d Routing) []string {
	var out []string
	for _, m := range d.Matches {
		out = append(out, m.Runbook.Metadata.Name)
	}
	return out
}

func TestRouteOrderAndPolicy(t *testing.T) {
	cond := testRunbook("slow-only", RiskLow, `alertname="HighLatency"`)
	cond.Spec.Trigger.Condition = `value > 0.5 && labels.env == "prod"`
	disabled := testRunbook("disabled", RiskLow, `alertname="HighLatency"`)
	disabled.Spec.Enabled = false
	r := mustRouter(t,
		[]*Runbook{
			testRunbook("generic", RiskLow, `severity=~"warning|critical"`),
			testRunbook("latency", RiskMedium, `alertname="HighLatency"`),
			testRunbook("latency-api", RiskHigh, `alertname="HighLatency"`, `service="api"`),
			testRunbook("latency-regex", RiskMedium, `alertname="HighLatency"`, `service=~"api|web"`),
			testRunbook("other", RiskLow, `alertname="DiskFull"`),
			testRunbook("not-api", RiskLow, `service!="api"`),
			cond, disabled,
		},
		[]*Policy{
			testPolicy("everything", 0),
			testPolicy("prod", 10, `env="prod"`),
			testPolicy("prod-b", 10, `env="prod"`), // same priority: name breaks the tie
			testPolicy("staging", 50, `env="staging"`),
		})
	lbl := map[string]string{"alertname": "HighLatency", "service": "api", "env": "prod", "severity": "critical"}
	d := r.Route(Anomaly{Labels: lbl, Value: 0.9})
	want := []string{"latency-api", "latency-regex", "disabled", "latency", "slow-only", "generic"}
	if got := names(d); !reflect.DeepEqual(got, want) {
		t.Fatalf("matches = %v, want %v (most specific first)", got, want)
	}
	if d.Policy.Metadata.Name != "prod" {
		t.Fatalf("policy = %s, want prod (priority, then name)", d.Policy.Metadata.Name)
	}
	m := d.Matches[0]
	if m.Target != "service=api" || m.Risk != RiskHigh || m.RequiredApprovals != 2 || m.AutoMerge {
		t.Fatalf("first match = %+v", m)
	}

	// The condition is false at a low value: skipped, with the reason.
	d = r.Route(Anomaly{Labels: lbl, Value: 0.1})
	if len(d.Skipped) != 1 || d.Skipped[0].Runbook.Metadata.Name != "slow-only" || d.Skipped[0].Reason != "condition is false" {
		t.Fatalf("skipped = %+v", d.Skipped)
	}

	// A label set no policy selects falls to "everything"; with no policies at all, the
	// built-in default requires approvals and never auto-merges.
	if d := r.Route(Anomaly{Labels: map[string]string{"alertname": "DiskFull"}}); d.Policy.Metadata.Name != "everything" {
		t.Fatalf("policy = %s", d.Policy.Metadata.Name)
	}
	bare := mustRouter(t, []*Runbook{testRunbook("x", RiskCritical, `alertname="X"`)}, nil)
	d = bare.Route(Anomaly{Labels: map[string]string{"alertname": "X"}})
	if d.Policy.Metadata.Name != DefaultPolicyName || d.Matches[0].RequiredApprovals != 2 || d.Matches[0].AutoMerge {
		t.Fatalf("default policy decision: %+v %+v", d.Policy.Metadata, d.Matches[0])
	}
	// No match at all.
	if d := r.Route(Anomaly{Labels: map[string]string{"alertname": "Nope", "service": "api"}}); len(d.Matches) != 0 {
		t.Fatalf("matches = %v", names(d))
	}
}

func TestAutoMergeByRisk(t *testing.T) {
	p := testPolicy("p", 0)
	p.Spec.AutoMerge = AutoMerge{MaxRisk: "medium", MinVerifiedRuns: 3}
	r := mustRouter(t, []*Runbook{
		testRunbook("low", RiskLow, `alertname="A"`),
		testRunbook("medium", RiskMedium, `alertname="A"`),
		testRunbook("high", RiskHigh, `alertname="A"`),
	}, []*Policy{p})
	got := map[string]bool{}
	for _, m := range r.Route(Anomaly{Labels: map[string]string{"alertname": "A"}}).Matches {
		got[m.Runbook.Metadata.Name] = m.AutoMerge
		if m.MinVerifiedRuns != 3 {
			t.Errorf("%s: min verified runs %d", m.Runbook.Metadata.Name, m.MinVerifiedRuns)
		}
	}
	if want := map[string]bool{"low": true, "medium": true, "high": false}; !reflect.DeepEqual(got, want) {
		t.Fatalf("auto-merge = %v, want %v", got, want)
	}
}

// genCatalog builds n runbooks of the shapes real catalogs have: most keyed on an
// alertname, some on a service, a few regex-only.
func genCatalog(t testing.TB, n int, rng *rand.Rand) *Catalog {
	t.Helper()
	rbs := make([]*Runbook, 0, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("rb-%05d", i)
		var ms []string
		switch rng.IntN(10) {
		case 0:
			ms = []string{fmt.Sprintf(`service=~"svc-%d.*"`, rng.IntN(50))}
		case 1, 2:
			ms = []string{fmt.Sprintf(`service="svc-%d"`, rng.IntN(200)), `severity!="info"`}
		default:
			ms = []string{fmt.Sprintf(`alertname="Alert%d"`, rng.IntN(n)), `env=~"prod|staging"`}
		}
		rbs = append(rbs, testRunbook(name, Risks()[rng.IntN(4)], ms...))
	}
	ps := []*Policy{testPolicy("prod", 10, `env="prod"`), testPolicy("all", 0)}
	c, err := NewCatalog(rbs, ps)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func genAnomaly(rng *rand.Rand, n int) Anomaly {
	return Anomaly{Labels: map[string]string{
		"alertname": fmt.Sprintf("Alert%d", rng.IntN(n)),
		"service":   fmt.Sprintf("svc-%d", rng.IntN(200)),
		"env":       []string{"prod", "staging", "dev"}[rng.IntN(3)],
		"severity":  []string{"info", "warning", "critical"}[rng.IntN(3)],
		"instance":  fmt.Sprintf("10.0.0.%d:9100", rng.IntN(255)),
	}}
}

// The index is an optimisation only: it must decide exactly what trying every runbook
// decides, and each match's target is its own runbook's group_by of the anomaly
// however the runbooks around it group.
func TestIndexedRouteEqualsLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := genCatalog(t, 2000, rng)
	groupings := [][]string{{"service"}, {"service", "env"}, {"alertname", "instance"}, {"service"}}
	for _, rb := range c.Runbooks {
		rb.Spec.Trigger.GroupBy = groupings[rng.IntN(len(groupings))]
	}
	r, err := NewRouter(c)
	if err != nil {
		t.Fatal(err)
	}
	matched := 0
	for i := 0; i < 3000; i++ {
		a := genAnomaly(rng, 2000)
		got, want := r.Route(a), r.routeLinear(a)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("anomaly %v:\nindexed %v\nlinear  %v", a.Labels, names(got), names(want))
		}
		for _, m := range got.Matches {
			if want := Target(m.Runbook, a.Labels); m.Target != want {
				t.Fatalf("%s: target %q, want %q", m.Runbook.Metadata.Name, m.Target, want)
			}
		}
		matched += len(got.Matches)
	}
	if matched == 0 {
		t.Fatal("no anomaly matched anything: the comparison proves nothing")
	}
}

func TestWindows(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	office := Window{TimeZone: "Europe/Berlin", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "08:00", End: "18:00"}
	overnight := Window{TimeZone: "Europe/Berlin", Days: []string{"fri"}, Start: "22:00", End: "02:00"}
	freeze := Window{TimeZone: "UTC", From: "2026-12-20", Until: "2027-01-03"}
	cases := []struct {
		w    Window
		t    string
		want bool
	}{
		{office, "2026-11-24 09:30", true},  // Tuesday
		{office, "2026-11-24 18:00", false}, // end is exclusive
		{office, "2026-11-24 07:59", false},
		{office, "2026-11-28 10:00", false}, // Saturday
		{overnight, "2026-11-27 23:00", true},
		{overnight, "2026-11-28 01:30", true}, // Saturday morning belongs to Friday's window
		{overnight, "2026-11-28 02:00", false},
		{overnight, "2026-11-28 23:00", false},
		{freeze, "2026-12-24 12:00", true},
		{freeze, "2027-01-03 23:00", true},
		{freeze, "2027-01-04 12:00", false}, // 11:00 UTC on the 4th
	}
	for _, tc := range cases {
		if got := tc.w.Contains(at(tc.t)); got != tc.want {
			t.Errorf("%+v contains %s = %v, want %v", tc.w, tc.t, got, tc.want)
		}
	}
	// The same instant seen from another zone gives the same answer.
	if !office.Contains(at("2026-11-24 09:30").In(time.UTC)) {
		t.Error("window check depends on the zone of the time given")
	}
}

func TestDefaultProtectedPathsCoverEveryCISystem(t *testing.T) {
	for _, p := range []string{
		".github/workflows/ci.yml", "CODEOWNERS", "docs/CODEOWNERS", "teams/x/CODEOWNERS",
		".gitlab-ci.yml", "sub/.gitlab-ci.yml", ".gitlab/ci/templates.yml",
		"Jenkinsfile", "pipelines/Jenkinsfile", "ci/deploy.Jenkinsfile",
		"azure-pipelines.yml", "build/azure-pipelines.yaml", ".azuredevops/pipeline.yml",
		".circleci/config.yml", ".buildkite/pipeline.yml", "buildkite.yml",
		".drone.yml", "svc/.drone.star", ".travis.yml", "bitbucket-pipelines.yml",
		".pre-commit-config.yaml", "modules/x/.pre-commit-config.yaml",
		".gitattributes", "sub/.gitattributes", ".gitmodules", "atlantis.yaml", ".woodpecker.yml", ".tekton/run.yaml",
		".remediations/other.yaml", ".GitLab-CI.yml",
		"cloudbuild.yaml", "deploy/cloudbuild.yml", "cloudbuild.json", "buildspec.yml", "svc/buildspec.yaml", "buildspec-prod.yml",
		".semaphore/semaphore.yml", "svc/.semaphore/deploy.yml", ".cirrus.yml", "sub/.cirrus.star", "appveyor.yml", ".appveyor.yml",
		".harness/pipeline.yaml", "codefresh.yml", ".teamcity/settings.kts", "bamboo-specs/bamboo.yml",
		"renovate.json", "renovate.json5", ".renovaterc", ".renovaterc.json", ".github/renovate.json", ".gitlab/renovate.json",
		".github/dependabot.yml", "CloudBuild.YAML",
	} {
		if _, ok := ProtectedMatch(p, nil); !ok {
			t.Errorf("%s is not protected", p)
		}
	}
	for _, p := range []string{"envs/prod/api.auto.tfvars", "modules/ci/main.tf", "docs/jenkins.md", "github/main.tf", "envs/codebuild.auto.tfvars", "renovate/main.tf"} {
		if pat, ok := ProtectedMatch(p, nil); ok {
			t.Errorf("%s is protected by %s", p, pat)
		}
	}
}

// TestIndexProvesOnlyItsAnchor: a runbook found through the index skips only the
// matcher its anchor proved. Every kind of anchor (one value, a set of values from a
// regex, a prefix, none), each beside matchers the anomaly may fail, over every
// combination of the labels' values: the index decides what the linear scan decides.
func TestIndexProvesOnlyItsAnchor(t *testing.T) {
	rbs := []*Runbook{
		testRunbook("equal", RiskLow, `service="api"`, `env!="dev"`),
		testRunbook("equal-regex-too", RiskLow, `service="api"`, `env=~"prod|staging"`, `severity=~"crit.*"`),
		testRunbook("value-set", RiskLow, `env=~"prod|staging"`, `service!="web"`),
		testRunbook("value-set-and-prefix", RiskLow, `env=~"prod|staging"`, `service=~"ap.*"`),
		testRunbook("prefix-beside-equal", RiskLow, `service=~"ap.*"`, `severity="critical"`),
		testRunbook("prefix", RiskLow, `service=~"ap.*i"`, `env!="dev"`),
		testRunbook("scan", RiskLow, `env!="dev"`, `severity!~"info|warning"`),
		testRunbook("alertname-and-equal", RiskLow, `alertname="A"`, `service="web"`),
	}
	r := mustRouter(t, rbs, []*Policy{testPolicy("all", 0)})
	values := map[string][]string{
		"alertname": {"A", "B", ""},
		"service":   {"api", "apx", "web", ""},
		"env":       {"prod", "staging", "dev", ""},
		"severity":  {"critical", "crit", "info", ""},
	}
	order := []string{"alertname", "service", "env", "severity"}
	matched := 0
	var walk func(i int, labels map[string]string)
	walk = func(i int, labels map[string]string) {
		if i == len(order) {
			a := Anomaly{Labels: labels}
			got, want := r.Route(a), r.routeLinear(a)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%v: indexed %v, linear %v", labels, names(got), names(want))
			}
			matched += len(got.Matches)
			return
		}
		for _, v := range values[order[i]] {
			next := map[string]string{}
			for k, x := range labels {
				next[k] = x
			}
			if v != "" { // "": the label is absent
				next[order[i]] = v
			}
			walk(i+1, next)
		}
	}
	walk(0, map[string]string{})
	if matched == 0 {
		t.Fatal("nothing matched: the comparison proves nothing")
	}
}
