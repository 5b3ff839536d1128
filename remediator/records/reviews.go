package records

import (
	"sort"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// ReviewCount is what a pull request's reviews amount to for one head commit.
type ReviewCount struct {
	// Approvers are the people whose latest review approves exactly this head.
	Approvers []string
	// Blockers are the people whose latest review requests changes: any one blocks.
	Blockers []string
	// Ignored says why each other approval does not count.
	Ignored []string
}

// CountReviews applies "an approval is an identity" (remediator/TRUST.md) to forge reviews: per person only the latest
// review that decides (approved, changes requested, dismissed; a comment decides
// nothing), an approval counts only for the head commit it was given on, never from
// the pull request's author, never from a bot, and a standing "changes requested"
// (a bot's too) blocks whatever commit it was given on.
func CountReviews(reviews []forge.Review, headSHA string, excluded []string) ReviewCount {
	var c ReviewCount
	for _, r := range LatestDecisions(reviews) {
		state := strings.ToUpper(r.State)
		// Ifs, not a tagless switch: mutation testing (.mutation) cannot see a case's
		// condition, and each of these is a rule.
		if state == "DISMISSED" {
			continue
		}
		if ContainsFold(excluded, r.Login) {
			if state == "APPROVED" {
				c.Ignored = append(c.Ignored, r.Login+": the pull request's author or a pusher to its branch cannot approve it")
			}
			continue
		}
		if state == "CHANGES_REQUESTED" {
			// From anyone, a bot too (a scanner that objects): an objection blocks
			// even where an approval would not count.
			c.Blockers = append(c.Blockers, r.Login)
			continue
		}
		if r.Bot {
			c.Ignored = append(c.Ignored, r.Login+": a bot's approval does not count")
			continue
		}
		if r.CommitID != headSHA {
			c.Ignored = append(c.Ignored, r.Login+": approved "+short12(r.CommitID)+", not the head "+short12(headSHA))
			continue
		}
		c.Approvers = append(c.Approvers, r.Login)
	}
	return c
}

func short12(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// ContainsFold says whether list names s, case folded; an empty entry names no one.
func ContainsFold(list []string, s string) bool {
	for _, x := range list {
		if x != "" && strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// LatestDecisions is each person's latest review that decides (approved, changes
// requested, dismissed; a comment decides nothing), in the order people first
// decided.
func LatestDecisions(reviews []forge.Review) []forge.Review {
	sorted := append([]forge.Review(nil), reviews...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Submitted.Before(sorted[j].Submitted) })
	latest := map[string]forge.Review{}
	var order []string
	for _, r := range sorted {
		switch strings.ToUpper(r.State) {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
		default:
			continue
		}
		key := strings.ToLower(r.Login)
		if _, seen := latest[key]; !seen {
			order = append(order, key)
		}
		latest[key] = r
	}
	out := make([]forge.Review, 0, len(order))
	for _, key := range order {
		out = append(out, latest[key])
	}
	return out
}
