package replay_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/replay"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// testCatalog: scale-out (HighLatency, per service, cooldown 1h, low risk) and
// raise-workers (Backlog, per queue); production needs an approval and opens at
// most 2 proposals an hour; staging auto-merges low risk after one verified run,
// trips its breaker on one failure (2h quiet), and freezes merges on Tuesday
// afternoons.
func testCatalog(t testing.TB, adjust func(scale *runbooks.Runbook, prod, staging *runbooks.Policy)) (*runbooks.Catalog, *runbooks.Router) {
	t.Helper()
	scale := runbooks.NewRunbook("scale-out")
	scale.Spec.Risk = runbooks.RiskLow
	scale.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="HighLatency"`}, GroupBy: []string{"service"}}
	scale.Spec.Changes = []runbooks.Change{{Kind: "hcl", File: "envs/{{ .labels.service }}.tfvars", Path: "replicas", Value: "current + 1"}}
	scale.Spec.Cooldown = runbooks.Duration(time.Hour)
	workers := runbooks.NewRunbook("raise-workers")
	workers.Spec.Risk = runbooks.RiskLow
	workers.Spec.Trigger = runbooks.Trigger{Matchers: []string{`alertname="Backlog"`}, GroupBy: []string{"queue"}}
	workers.Spec.Changes = []runbooks.Change{{Kind: "yaml", File: "k8s/{{ .labels.queue }}.yaml", Path: "spec.replicas", Value: "current + 2"}}
	prod := runbooks.NewPolicy("production")
	prod.Spec.Selector.Matchers = []string{`env="prod"`}
	prod.Spec.Priority = 10
	prod.Spec.Approvals.Low = 1
	prod.Spec.Limits.PerHour = 2
	staging := runbooks.NewPolicy("staging")
	staging.Spec.Selector.Matchers = []string{`env="staging"`}
	staging.Spec.AutoMerge = runbooks.AutoMerge{MaxRisk: "low", MinVerifiedRuns: 1}
	staging.Spec.CircuitBreaker = runbooks.CircuitBreaker{Failures: 1, Window: runbooks.Duration(time.Hour), Cooldown: runbooks.Duration(2 * time.Hour)}
	staging.Spec.FreezeWindows = []runbooks.Window{{TimeZone: "UTC", Days: []string{"tue"}, Start: "12:00", End: "18:00"}}
	if adjust != nil {
		adjust(scale, prod, staging)
	}
	cat, err := runbooks.NewCatalog([]*runbooks.Runbook{scale, workers}, []*runbooks.Policy{prod, staging})
	if err != nil {
		t.Fatal(err)
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		t.Fatal(err)
	}
	return cat, router
}

// at is a time on Monday 2 November 2026 (UTC) plus days.
func at(days int, clock string) time.Time {
	t, err := time.Parse("15:04", clock)
	if err != nil {
		panic(err)
	}
	return time.Date(2026, 11, 2+days, t.Hour(), t.Minute(), 0, 0, time.UTC)
}

func anomaly(labels string, start, end time.Time, outcome forge.Outcome) intake.Anomaly {
	m := map[string]string{}
	for _, kv := range strings.Split(labels, ",") {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	a := intake.Anomaly{Labels: m, Status: intake.StatusFiring, StartsAt: start, EndsAt: end, Annotations: map[string]string{}}
	if outcome != "" {
		a.Annotations[replay.OutcomeAnnotation] = string(outcome)
	}
	return a
}

// A hand-checked week: dedupe, per_hour, cooldown, auto-merge earned and lost, the
// breaker, and a freeze window that holds an auto-merge.
func TestReplayMatchesTheHandCheckedWeek(t *testing.T) {
	cat, router := testCatalog(t, nil)
	type want struct {
		action decision.Action
		why    string
	}
	events := []struct {
		a    intake.Anomaly
		want want
	}{
		{anomaly("alertname=HighLatency,service=a,env=prod", at(0, "10:00"), at(0, "10:20"), ""), want{decision.Proposed, "would wait for 1 approval(s) under policy production"}},
		{anomaly("alertname=HighLatency,service=a,env=prod", at(0, "10:05"), at(0, "10:20"), ""), want{decision.Updated, "recurrence"}},
		{anomaly("alertname=HighLatency,service=b,env=prod", at(0, "10:10"), at(0, "10:40"), ""), want{decision.Proposed, ""}},
		{anomaly("alertname=HighLatency,service=c,env=prod", at(0, "10:15"), at(0, "10:40"), ""), want{decision.Suppressed, "limit: 2 proposals opened in the last hour under policy production (per_hour 2)"}},
		{anomaly("alertname=HighLatency,service=a,env=prod", at(0, "10:30"), at(0, "10:50"), ""), want{decision.Suppressed, "(per_hour 2)"}},
		{anomaly("alertname=HighLatency,service=c,env=prod", at(0, "11:05"), at(0, "11:30"), ""), want{decision.Proposed, ""}},
		{anomaly("alertname=HighLatency,service=s,env=staging", at(0, "12:00"), at(0, "12:20"), ""), want{decision.AutoMerged, "would auto-merge at 2026-11-02T12:00:00Z"}},
		{anomaly("alertname=HighLatency,service=s,env=staging", at(0, "12:30"), at(0, "12:40"), ""), want{decision.Suppressed, "cooldown: this target was last remediated at 2026-11-02T12:00:00Z; quiet until 2026-11-02T13:00:00Z"}},
		{anomaly("alertname=HighLatency,service=t,env=staging", at(0, "13:30"), at(0, "13:50"), forge.OutcomeFailed), want{decision.AutoMerged, ""}},
		{anomaly("alertname=HighLatency,service=u,env=staging", at(0, "14:00"), at(0, "14:10"), ""), want{decision.Suspended, "runbook scale-out suspended until 2026-11-02T15:30:00Z"}},
		{anomaly("alertname=HighLatency,service=u,env=staging", at(0, "16:00"), at(0, "16:10"), ""), want{decision.Proposed, "has 0 verified run(s) in a row, auto-merge needs 1"}},
		{anomaly("alertname=Backlog,queue=emails,env=staging", at(1, "13:00"), at(1, "20:00"), ""), want{decision.AutoMerged, "would auto-merge at 2026-11-03T18:00:00Z (held until then: inside a freeze window of policy staging)"}},
		{anomaly("alertname=Backlog,queue=sms,env=staging", at(1, "14:00"), at(1, "17:00"), ""), want{decision.Proposed, "the anomaly ended before a window let it"}},
		{anomaly("alertname=DiskFull,env=prod", at(2, "09:00"), time.Time{}, ""), want{decision.NoMatch, "no runbook matches"}},
	}
	var in []intake.Anomaly
	for _, e := range events {
		in = append(in, e.a)
	}
	res := replay.Run(cat, router, in, replay.Options{Streaks: map[string]int{"scale-out": 1, "raise-workers": 5}, Outcome: replay.OutcomeOf, End: at(3, "00:00")})
	for i, e := range events {
		if res[i].Action != e.want.action || !strings.Contains(res[i].Reason, e.want.why) {
			t.Errorf("event %d (%v at %s): %s (%s), want %s (%s)", i, e.a.Labels, e.a.StartsAt.Format("Mon 15:04"), res[i].Action, res[i].Reason, e.want.action, e.want.why)
		}
	}
	if id := decision.ID("scale-out", "service=a"); res[0].ID != id {
		t.Errorf("id %s, want the live loop's %s", res[0].ID, id)
	}
	rep := replay.NewReport("main", res)
	if rep.Proposals() != 8 || rep.Totals[decision.AutoMerged] != 3 || rep.Totals[decision.Suppressed] != 3 {
		t.Errorf("totals %v", rep.Totals)
	}
}

// --compare: a catalog change (production lets 5 an hour) shows as the difference.
func TestCompareTwoCatalogs(t *testing.T) {
	base, baseRouter := testCatalog(t, nil)
	head, headRouter := testCatalog(t, func(_ *runbooks.Runbook, prod, _ *runbooks.Policy) { prod.Spec.Limits.PerHour = 5 })
	var in []intake.Anomaly
	for i, svc := range []string{"a", "b", "c", "d"} {
		in = append(in, anomaly("alertname=HighLatency,env=prod,service="+svc, at(0, "10:0"+string(rune('0'+i))), at(0, "11:00"), ""))
	}
	b := replay.NewReport("main", replay.Run(base, baseRouter, in, replay.Options{}))
	h := replay.NewReport("catalog-pr", replay.Run(head, headRouter, in, replay.Options{}))
	c, err := replay.Compare(b, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Differences) != 2 || c.Summary() != "Over these 4 anomalies, catalog-pr would have opened 4 proposal(s) instead of 2; 0 would have auto-merged instead of 0; 2 anomaly(ies) would be treated differently." {
		t.Fatalf("%d differences; %s", len(c.Differences), c.Summary())
	}
	var md strings.Builder
	if err := c.Write(&md, replay.FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| suppressed | 2 | 0 |", "| proposed | 2 | 4 |", "suppressed by scale-out | proposed by scale-out |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

// A label value cannot break out of its markdown table cell or inject HTML.
func TestMarkdownEscapesLabels(t *testing.T) {
	cat, router := testCatalog(t, nil)
	in := []intake.Anomaly{anomaly("alertname=DiskFull,path=a|b`<img src=x onerror=alert(1)>", at(0, "10:00"), time.Time{}, "")}
	var md strings.Builder
	if err := replay.NewReport("main", replay.Run(cat, router, in, replay.Options{})).Write(&md, replay.FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md.String(), "<img") || !strings.Contains(md.String(), `a\|b'&lt;img`) {
		t.Fatalf("unescaped:\n%s", md.String())
	}
}
