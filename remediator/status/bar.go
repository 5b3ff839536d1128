package status

import (
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// Segment is one stretch of a remediation's timeline bar, to scale: X and W are in
// the bar's 1000 units.
type Segment struct {
	Label string  `json:"label"`
	X     float64 `json:"x"`
	W     float64 `json:"w"`
	Fill  string  `json:"fill"`
	From  time.Time
	To    time.Time
}

// milestone names the timeline's steps the bar marks, by how the timeline words them.
var milestones = []struct{ prefix, stage, fill string }{
	{"anomaly ", "until proposed", "#d9534f"},
	{"proposed by ", "waiting for approval", "#f0ad4e"},
	{"approved by ", "until merged", "#5bc0de"},
	{"merged as ", "until applied", "#337ab7"},
	{"applied", "until the anomaly went", "#9b59b6"},
	{"anomaly gone", "soak", "#5cb85c"},
}

// Bar lays the timeline out to scale: a segment from each milestone reached to the
// next (the first approval; the last step is the outcome). Nothing before two
// milestones are known.
func (r *Remediation) Bar() []Segment {
	type mark struct {
		at          time.Time
		stage, fill string
	}
	var marks []mark
	seen := map[string]bool{}
	var end time.Time
	for _, e := range r.Timeline {
		if e.At.IsZero() {
			continue
		}
		for _, m := range milestones {
			if strings.HasPrefix(e.What, m.prefix) && !seen[m.prefix] {
				seen[m.prefix] = true
				marks = append(marks, mark{e.At, m.stage, m.fill})
			}
		}
		for _, o := range []forge.Outcome{forge.OutcomeVerified, forge.OutcomeFailed, forge.OutcomeNotApplied} {
			if strings.HasPrefix(e.What, string(o)+": ") {
				end = e.At
			}
		}
	}
	if !end.IsZero() {
		marks = append(marks, mark{at: end})
	}
	if len(marks) < 2 {
		return nil
	}
	start, total := marks[0].at, marks[len(marks)-1].at.Sub(marks[0].at)
	if total <= 0 {
		return nil
	}
	var out []Segment
	for i := 0; i+1 < len(marks); i++ {
		from, to := marks[i].at, marks[i+1].at
		if to.Before(from) {
			continue
		}
		out = append(out, Segment{
			Label: marks[i].stage + ": " + roundDuration(to.Sub(from)).String(),
			X:     1000 * from.Sub(start).Seconds() / total.Seconds(),
			W:     max(1000*to.Sub(from).Seconds()/total.Seconds(), 2),
			Fill:  marks[i].fill, From: from, To: to,
		})
	}
	return out
}

func roundDuration(d time.Duration) time.Duration {
	if d >= time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}
