package records_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

func TestCountReviews(t *testing.T) {
	const head, old = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	rv := func(login, state, sha string, minute int) forge.Review {
		return forge.Review{Login: login, State: state, CommitID: sha, Submitted: t0.Add(time.Duration(minute) * time.Minute), Bot: strings.HasSuffix(login, "[bot]")}
	}
	cases := []struct {
		name               string
		reviews            []forge.Review
		approvers, blocker string
		ignored            string
	}{
		{"one approval of the head", []forge.Review{rv("alice", "APPROVED", head, 1)}, "alice", "", ""},
		{"a stale approval: the head moved after the review", []forge.Review{rv("alice", "APPROVED", old, 1)}, "", "", "not the head"},
		{"a self-approval", []forge.Review{rv("remediator-bot", "APPROVED", head, 1)}, "", "", "author or a pusher"},
		{"the last pusher approving their own push", []forge.Review{rv("Pusher", "APPROVED", head, 1), rv("alice", "APPROVED", head, 2)}, "alice", "", "pusher to its branch cannot approve"},
		{"a bot approval", []forge.Review{rv("renovate[bot]", "APPROVED", head, 1)}, "", "", "bot's approval"},
		{"a bot requesting changes blocks", []forge.Review{rv("alice", "APPROVED", head, 1), rv("scanner[bot]", "CHANGES_REQUESTED", head, 2)}, "alice", "scanner[bot]", ""},
		{"changes requested after an approval", []forge.Review{rv("alice", "APPROVED", head, 1), rv("alice", "CHANGES_REQUESTED", head, 2)}, "", "alice", ""},
		{"changes requested by another, on an older commit", []forge.Review{rv("alice", "APPROVED", head, 2), rv("bob", "CHANGES_REQUESTED", old, 1)}, "alice", "bob", ""},
		{"approval after changes requested", []forge.Review{rv("alice", "CHANGES_REQUESTED", old, 1), rv("alice", "APPROVED", head, 2)}, "alice", "", ""},
		{"a comment after an approval changes nothing", []forge.Review{rv("alice", "APPROVED", head, 1), rv("alice", "COMMENTED", head, 2)}, "alice", "", ""},
		{"a dismissed review counts for nothing", []forge.Review{rv("alice", "APPROVED", head, 1), rv("alice", "DISMISSED", head, 2)}, "", "", ""},
		{"two people, order kept", []forge.Review{rv("bob", "APPROVED", head, 2), rv("alice", "APPROVED", head, 1)}, "alice,bob", "", ""},
	}
	for _, c := range cases {
		got := records.CountReviews(c.reviews, head, []string{"remediator-bot", "pusher"})
		if strings.Join(got.Approvers, ",") != c.approvers || strings.Join(got.Blockers, ",") != c.blocker {
			t.Errorf("%s: approvers %v blockers %v, want %q %q", c.name, got.Approvers, got.Blockers, c.approvers, c.blocker)
		}
		if c.ignored != "" && !strings.Contains(strings.Join(got.Ignored, ";"), c.ignored) {
			t.Errorf("%s: ignored %v, want a reason with %q", c.name, got.Ignored, c.ignored)
		}
	}
}
