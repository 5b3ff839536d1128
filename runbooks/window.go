package runbooks

import (
	"strconv"
	"strings"
	"time"

	// Windows name IANA zones; embedding the database makes validation and window
	// checks give the same answer on a machine without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Contains reports whether t falls inside the window. A window whose end is before its
// start runs over midnight: "fri 22:00 to 02:00" includes Saturday 01:00. Days name
// the day the window starts on. The window must have passed validation.
func (w Window) Contains(t time.Time) bool {
	loc, err := time.LoadLocation(w.TimeZone)
	if err != nil {
		return false
	}
	lt := t.In(loc)
	start, end := clockMinutes(w.Start, 0), clockMinutes(w.End, 24*60)
	now := lt.Hour()*60 + lt.Minute()
	day := lt
	switch {
	case start < end:
		if now < start || now >= end {
			return false
		}
	case start > end: // overnight
		if now < start && now >= end {
			return false
		}
		if now < end {
			day = lt.AddDate(0, 0, -1) // the window opened yesterday
		}
	default: // start == end: the whole day
	}
	if len(w.Days) > 0 && !contains(w.Days, weekday(day)) {
		return false
	}
	date := day.Format(time.DateOnly)
	if w.From != "" && date < w.From {
		return false
	}
	if w.Until != "" && date > w.Until {
		return false
	}
	return true
}

// InWindows reports whether t is inside any of the windows.
func InWindows(ws []Window, t time.Time) bool {
	for _, w := range ws {
		if w.Contains(t) {
			return true
		}
	}
	return false
}

func weekday(t time.Time) string {
	return strings.ToLower(t.Weekday().String()[:3])
}

func clockMinutes(s string, dflt int) int {
	if s == "" {
		return dflt
	}
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return dflt
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil {
		return dflt
	}
	return hh*60 + mm
}

// MergeBlocked says why the policy's windows hold a merge at t, or "": inside a
// freeze window, or outside every change window when it has any.
func (p *Policy) MergeBlocked(t time.Time) string {
	if InWindows(p.Spec.FreezeWindows, t) {
		return "inside a freeze window of policy " + p.Metadata.Name
	}
	if len(p.Spec.ChangeWindows) > 0 && !InWindows(p.Spec.ChangeWindows, t) {
		return "outside every change window of policy " + p.Metadata.Name
	}
	return ""
}

// NextMerge is the first minute from t at which the policy's windows allow a merge,
// looking at most horizon ahead; false when none does.
func (p *Policy) NextMerge(t time.Time, horizon time.Duration) (time.Time, bool) {
	if p.MergeBlocked(t) == "" {
		return t, true
	}
	for at := t.Truncate(time.Minute).Add(time.Minute); !at.After(t.Add(horizon)); at = at.Add(time.Minute) {
		if p.MergeBlocked(at) == "" {
			return at, true
		}
	}
	return time.Time{}, false
}

// Trips applies a circuit breaker to the times a runbook's remediations failed
// (any order): when at least Failures of them lie within Window before now, the
// runbook is suspended until Cooldown after the newest of them.
func (cb CircuitBreaker) Trips(failures []time.Time, now time.Time) (until time.Time, tripped bool) {
	if cb.Failures <= 0 {
		return time.Time{}, false
	}
	n := 0
	var newest time.Time
	for _, f := range failures {
		if f.After(now) || f.Before(now.Add(-cb.Window.Std())) {
			continue
		}
		n++
		if f.After(newest) {
			newest = f
		}
	}
	if n < cb.Failures {
		return time.Time{}, false
	}
	until = newest.Add(cb.Cooldown.Std())
	return until, now.Before(until)
}
