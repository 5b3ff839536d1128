package forge

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// RecurrenceMarker identifies the one comment that counts repeats of the anomaly on an
// open proposal.
func RecurrenceMarker(id string) string {
	return fmt.Sprintf("<!-- remediation:recurrence id=%s -->", markerValue(id))
}

// RecurrenceComment is that comment's text.
func RecurrenceComment(id string, count int, last string, value float64) string {
	return fmt.Sprintf("%s\nThe anomaly recurred while this proposal was open: **%d** time(s), last at `%s` (value `%g`).\n",
		RecurrenceMarker(id), count, code(last), value)
}

// ParseRecurrence reads the count back from a recurrence comment.
func ParseRecurrence(body string) int {
	_, rest, ok := strings.Cut(body, "recurred while this proposal was open: **")
	if !ok {
		return 0
	}
	var n int
	if _, err := fmt.Sscanf(rest, "%d", &n); err != nil {
		return 0
	}
	return n
}

// Split cuts a long Markdown comment into parts of at most limit bytes each (so at
// most limit characters), at line boundaries where it can. A part that ends inside a
// fenced code block closes the fence and the next part reopens it with the same
// opening line, so every part renders on its own. Parts after the first start with a
// continuation line.
func Split(text string, limit int) []string {
	// headroom is kept for closing an open fence; fences with longer runs than
	// maxFenceRun are left alone (CommonMark allows them, nobody writes them).
	const headroom, maxFenceRun, maxInfo = 16, 8, 40
	if limit < 256 {
		limit = 256
	}
	var parts []string
	var cur strings.Builder
	fence := "" // the opening line of the fenced block we are in, "" when none
	header := 0
	start := func() {
		cur.Reset()
		if len(parts) > 0 {
			fmt.Fprintf(&cur, "_(continued, part %d)_\n\n", len(parts)+1)
		}
		if fence != "" {
			cur.WriteString(fence + "\n")
		}
		header = cur.Len()
	}
	// closed is the current part, with the open fence (if any) closed.
	closed := func() string {
		s := cur.String()
		if fence != "" {
			if !strings.HasSuffix(s, "\n") {
				s += "\n"
			}
			s += fenceRun(fence) + "\n"
		}
		return s
	}
	emit := func() {
		parts = append(parts, closed())
		start()
	}
	start()
	for _, line := range strings.SplitAfter(text, "\n") {
		for line != "" && cur.Len()+len(line)+headroom > limit {
			if cur.Len() > header {
				emit()
				continue
			}
			// One line longer than a part: cut it on a rune boundary, always moving on.
			cut := max(limit-headroom-cur.Len()-1, 1)
			for cut > 1 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			for cut < len(line) && !utf8.RuneStart(line[cut]) {
				cut++
			}
			cur.WriteString(line[:cut] + "\n")
			line = line[cut:]
			emit()
		}
		if line == "" {
			continue
		}
		cur.WriteString(line)
		t := strings.TrimSpace(line)
		switch {
		case fence == "" && (strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")) && len(fenceRun(t)) <= maxFenceRun:
			// Reopened at the top of each later part: keep that line short.
			fence = t
			if len(fence) > len(fenceRun(t))+maxInfo {
				fence = fence[:len(fenceRun(t))+maxInfo]
				for !utf8.ValidString(fence) {
					fence = fence[:len(fence)-1]
				}
			}
		case fence != "" && strings.HasPrefix(t, fenceRun(fence)) && strings.Trim(t, fence[:1]) == "":
			fence = ""
		}
	}
	if cur.Len() > header || len(parts) == 0 {
		parts = append(parts, closed())
	}
	return parts
}

// fenceRun is the run of backticks or tildes that opened a fenced block; the block
// closes with at least as many.
func fenceRun(open string) string {
	n := 0
	for n < len(open) && open[n] == open[0] {
		n++
	}
	return open[:n]
}

// OutcomeMarker finds the outcome comment on a pull request.
const OutcomeMarker = "<!-- remediation:outcome -->"

// OutcomeComment reports a merged remediation's outcome; the detail (alert and query
// results, which carry label values) stays inside a code span.
func OutcomeComment(outcome Outcome, detail, mergeSHA string) string {
	headline := "**Verified.** The change was applied and the anomaly stayed gone for the soak period."
	switch outcome {
	case OutcomeFailed:
		headline = "**Verification failed.** The anomaly did not go after the change was applied, or came back during the soak period; the rollback is proposed unless the runbook says `rollback: none`."
	case OutcomeNotApplied:
		headline = "**Not applied.** No check reported the change applied in time (or the apply failed); nothing is rolled back and the runbook's record does not count it."
	}
	return fmt.Sprintf("%s\n%s\n\n| | |\n|---|---|\n| Checked | `%s` |\n| Merge commit | `%s` |\n| Recorded in Git | note under `refs/notes/remediation` on the merge commit |\n",
		OutcomeMarker, headline, code(detail), mergeSHA)
}

// ChangedMarker finds the one comment that says a person changed the proposal.
const ChangedMarker = "<!-- remediation:changed-by-person -->"

// ChangedByPersonComment says why the remediator will not merge a proposal whose head
// is not its own commit: what names the forge's proposal ("pull request", "merge
// request") and reviews what would approve it there ("reviews", "approvals").
func ChangedByPersonComment(what, reviews, head, reason string) string {
	return fmt.Sprintf("**Changed by a person.** The head `%s` of this %s is not the remediator's own commit, so the "+
		"remediator will not merge it, whatever its %s say.\n\n%s\n\nIf you want this change, merge it through your "+
		"team's own process; if not, close this %s and the remediator proposes again when the anomaly recurs.",
		head, what, reviews, reason, what)
}
