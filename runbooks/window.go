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
