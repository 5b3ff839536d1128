package records_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

func rulesReview(login, state, sha string, minute int, bot bool) forge.Review {
	return forge.Review{Login: login, State: state, CommitID: sha, Bot: bot,
		Submitted: time.Date(2026, 11, 25, 6, minute, 0, 0, time.UTC)}
}

func reviewCount(reviews []forge.Review, excluded ...string) (approvers, blockers, ignored string) {
	c := records.CountReviews(reviews, rulesCommit, excluded)
	return strings.Join(c.Approvers, ","), strings.Join(c.Blockers, ","), strings.Join(c.Ignored, "; ")
}

// GitHub logins are case-insensitive: "Alice" and "alice" are one person, whose
// latest review is the one that stands.
func TestRuleReviewsFoldLoginCase(t *testing.T) {
	a, b, _ := reviewCount([]forge.Review{
		rulesReview("Alice", "APPROVED", rulesCommit, 1, false),
		rulesReview("alice", "CHANGES_REQUESTED", rulesCommit, 2, false),
	})
	if a != "" || b != "alice" {
		t.Fatalf("an approval withdrawn under another case of the login: approvers %q blockers %q", a, b)
	}
	a, _, _ = reviewCount([]forge.Review{
		rulesReview("alice", "APPROVED", rulesCommit, 1, false),
		rulesReview("ALICE", "APPROVED", rulesCommit, 2, false),
	})
	if a != "ALICE" {
		t.Fatalf("one person approving twice in two cases counts once: approvers %q", a)
	}
}

func TestRuleReviewsLatestDecidingReviewStands(t *testing.T) {
	for _, tc := range []struct {
		name             string
		reviews          []forge.Review
		approvers, block string
	}{
		{"given out of order: the later approval stands", []forge.Review{
			rulesReview("alice", "APPROVED", rulesCommit, 5, false), rulesReview("alice", "CHANGES_REQUESTED", rulesCommit, 1, false)}, "alice", ""},
		{"given out of order: the later objection stands", []forge.Review{
			rulesReview("alice", "CHANGES_REQUESTED", rulesCommit, 5, false), rulesReview("alice", "APPROVED", rulesCommit, 1, false)}, "", "alice"},
		{"a comment decides nothing", []forge.Review{
			rulesReview("alice", "CHANGES_REQUESTED", rulesCommit, 1, false), rulesReview("alice", "COMMENTED", rulesCommit, 2, false)}, "", "alice"},
		{"states in any case", []forge.Review{rulesReview("alice", "approved", rulesCommit, 1, false)}, "alice", ""},
		{"a dismissal withdraws an objection", []forge.Review{
			rulesReview("alice", "CHANGES_REQUESTED", rulesCommit, 1, false), rulesReview("alice", "dismissed", rulesCommit, 2, false)}, "", ""},
		{"pending decides nothing", []forge.Review{rulesReview("alice", "PENDING", rulesCommit, 1, false)}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, _ := reviewCount(tc.reviews)
			if a != tc.approvers || b != tc.block {
				t.Fatalf("approvers %q blockers %q, want %q %q", a, b, tc.approvers, tc.block)
			}
		})
	}
}

func TestRuleReviewsApproveOnlyTheHead(t *testing.T) {
	a, _, why := reviewCount([]forge.Review{rulesReview("alice", "APPROVED", rulesOtherCommit, 1, false)})
	if a != "" || !strings.Contains(why, "alice: approved 222222222222, not the head 111111111111") {
		t.Fatalf("an approval of an older commit: approvers %q (%s)", a, why)
	}
	a, _, why = reviewCount([]forge.Review{rulesReview("alice", "APPROVED", "abc", 1, false)})
	if a != "" || !strings.Contains(why, "approved abc, not") {
		t.Fatalf("a short commit id: approvers %q (%s)", a, why)
	}
}

func TestRuleReviewsBotsObjectButNeverApprove(t *testing.T) {
	a, b, why := reviewCount([]forge.Review{
		rulesReview("scanner", "APPROVED", rulesCommit, 1, true),
		rulesReview("linter", "CHANGES_REQUESTED", rulesCommit, 2, true),
	})
	if a != "" || b != "linter" || !strings.Contains(why, "scanner: a bot's approval does not count") {
		t.Fatalf("bots: approvers %q blockers %q (%s)", a, b, why)
	}
}

func TestRuleReviewsAuthorCannotApprove(t *testing.T) {
	a, _, why := reviewCount([]forge.Review{
		rulesReview("Pusher", "APPROVED", rulesCommit, 1, false),
		rulesReview("bob", "APPROVED", rulesCommit, 2, false),
	}, "", "pusher")
	if a != "bob" || !strings.Contains(why, "Pusher: the pull request's author or a pusher") {
		t.Fatalf("a pusher approving their push: approvers %q (%s)", a, why)
	}
}

// A review that does not count (dismissed, the author's, a bot's, a stale one) or
// that blocks is set aside: the reviews after it still count.
func TestRuleReviewsOneSetAsideDoesNotStopTheCount(t *testing.T) {
	const old = "2222222222222222222222222222222222222222"
	for name, first := range map[string]forge.Review{
		"dismissed":         rulesReview("bob", "DISMISSED", rulesCommit, 1, false),
		"the author's":      rulesReview("author", "APPROVED", rulesCommit, 1, false),
		"changes requested": rulesReview("bob", "CHANGES_REQUESTED", rulesCommit, 1, false),
		"a bot's":           rulesReview("renovate[bot]", "APPROVED", rulesCommit, 1, true),
		"stale":             rulesReview("bob", "APPROVED", old, 1, false),
	} {
		if a, _, why := reviewCount([]forge.Review{first, rulesReview("alice", "APPROVED", rulesCommit, 2, false)}, "author"); a != "alice" {
			t.Errorf("after %s review: approvers %q (%s), want alice", name, a, why)
		}
	}
}
