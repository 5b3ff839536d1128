package gitea

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// TestReviewMapping: Gitea's review, flags included, in the lifecycle's words. An
// approval counts only when it names a commit, which only an official, current,
// undismissed one does.
func TestReviewMapping(t *testing.T) {
	alice := &sdk.User{UserName: "alice"}
	cases := []struct {
		name       string
		in         sdk.PullReview
		state, sha string
		ok         bool
	}{
		{"official approval", sdk.PullReview{Reviewer: alice, State: sdk.ReviewStateApproved, Official: true, CommitID: "h"}, "APPROVED", "h", true},
		{"approval by a reader", sdk.PullReview{Reviewer: alice, State: sdk.ReviewStateApproved, CommitID: "h"}, "APPROVED", "unofficial", true},
		{"stale approval", sdk.PullReview{Reviewer: alice, State: sdk.ReviewStateApproved, Official: true, Stale: true, CommitID: "h"}, "APPROVED", "stale", true},
		{"dismissed approval", sdk.PullReview{Reviewer: alice, State: sdk.ReviewStateApproved, Official: true, Dismissed: true, CommitID: "h"}, "DISMISSED", "h", true},
		{"changes requested", sdk.PullReview{Reviewer: alice, State: sdk.ReviewStateRequestChanges, CommitID: "h"}, "CHANGES_REQUESTED", "h", true},
		{"stale objection still blocks", sdk.PullReview{Reviewer: alice, State: sdk.ReviewStateRequestChanges, Stale: true, CommitID: "h"}, "CHANGES_REQUESTED", "h", true},
		{"dismissed objection", sdk.PullReview{Reviewer: alice, State: sdk.ReviewStateRequestChanges, Dismissed: true, CommitID: "h"}, "DISMISSED", "h", true},
		{"comment", sdk.PullReview{Reviewer: alice, State: sdk.ReviewStateComment, Official: true, CommitID: "h"}, "COMMENTED", "h", true},
		{"draft", sdk.PullReview{Reviewer: alice, State: sdk.ReviewStatePending, Official: true, CommitID: "h"}, "PENDING", "h", true},
		{"review request", sdk.PullReview{Reviewer: alice, State: sdk.ReviewStateRequestReview, CommitID: "h"}, "REQUEST_REVIEW", "h", true},
		{"unknown state fails closed", sdk.PullReview{Reviewer: alice, State: "SOMETHING_NEW", Official: true, CommitID: "h"}, "CHANGES_REQUESTED", "h", true},
		{"a team's request is no review", sdk.PullReview{ReviewerTeam: &sdk.Team{Name: "sre"}, State: sdk.ReviewStateRequestReview}, "", "", false},
	}
	for _, tc := range cases {
		got, ok := review(&tc.in)
		if ok != tc.ok || got.State != tc.state || got.CommitID != tc.sha {
			t.Errorf("%s: %+v %v, want state %s commit %q ok %v", tc.name, got, ok, tc.state, tc.sha, tc.ok)
		}
	}
	if r, _ := review(&sdk.PullReview{Reviewer: &sdk.User{UserName: "gitea-actions"}, State: sdk.ReviewStateApproved, Official: true}); !r.Bot {
		t.Error("Gitea's Actions account is not a bot")
	}
}

// TestMergeRefusals: Gitea's answers to a merge, as the forge's sentinels.
func TestMergeRefusals(t *testing.T) {
	cases := []struct {
		status int
		msg    string
		want   error
	}{
		{http.StatusConflict, "head out of date", forge.ErrHeadMoved},
		{http.StatusMethodNotAllowed, "Please try again later", forge.ErrRetryLater},
		{http.StatusConflict, "merge push out of date", forge.ErrRetryLater},
		{http.StatusMethodNotAllowed, "User not allowed to merge PR", forge.ErrNotMergeable},
		{http.StatusMethodNotAllowed, "Not all required status checks successful", forge.ErrNotMergeable},
		{http.StatusConflict, "Merge Conflict", forge.ErrNotMergeable},
	}
	for _, tc := range cases {
		err := mergeRefusal(3, "abc", &apiError{Status: tc.status, Message: tc.msg})
		for _, s := range []error{forge.ErrHeadMoved, forge.ErrRetryLater, forge.ErrNotMergeable} {
			if errors.Is(err, s) != errors.Is(tc.want, s) {
				t.Errorf("%d %q: %v; want %v", tc.status, tc.msg, err, tc.want)
			}
		}
	}
	if err := mergeRefusal(3, "abc", &apiError{Status: http.StatusInternalServerError, Message: "boom"}); errors.Is(err, forge.ErrNotMergeable) || errors.Is(err, forge.ErrRetryLater) {
		t.Errorf("a 500 is a failure of the pass, not a refusal: %v", err)
	}
	f := &Forge{}
	if _, err := f.Merge(context.Background(), 3, "", "t", "m"); !errors.Is(err, errNoHead) {
		t.Fatalf("a merge without the head it must merge at was sent: %v", err)
	}
}

// TestRetries: Gitea's client speaks through the shared retry policy: 429 and 5xx
// are tried again (waiting what Retry-After says), other answers are Gitea's word;
// a wait beyond MaxWait is not taken.
func TestRetries(t *testing.T) {
	cases := []struct {
		name    string
		answers []int
		after   string
		tries   int32
		ok      bool
		waits   []time.Duration
	}{
		{"rate limited, then served", []int{429, 200}, "7", 2, true, []time.Duration{7 * time.Second}},
		{"gateway errors", []int{502, 503, 200}, "", 3, true, nil},
		{"not found is an answer", []int{404, 200}, "", 1, false, nil},
		{"a refusal is an answer", []int{405, 200}, "", 1, false, nil},
		{"gives up after the attempts", []int{500, 500, 500, 500, 500, 500}, "", 3, false, nil},
		{"a wait too long is not taken", []int{429, 200}, "3600", 1, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := n.Add(1) - 1
				if tc.after != "" {
					w.Header().Set("Retry-After", tc.after)
				}
				w.WriteHeader(tc.answers[i])
				if tc.answers[i] == http.StatusOK {
					_, _ = w.Write([]byte(`{"id":7,"login":"remediator"}`))
				}
			}))
			defer srv.Close()
			var waits []time.Duration
			f, err := New(Options{BaseURL: srv.URL, Owner: "acme", Repository: "infra", Token: "t", Logger: discard(),
				Retry: Retry{Attempts: 3, MaxWait: time.Minute, Backoff: time.Millisecond},
				Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			self, err := f.Self(context.Background())
			if (err == nil) != tc.ok || n.Load() != tc.tries {
				t.Fatalf("err %v after %d tries; want ok=%v after %d", err, n.Load(), tc.ok, tc.tries)
			}
			if tc.ok && self != "remediator" {
				t.Fatalf("self %q", self)
			}
			if tc.waits != nil && (len(waits) != len(tc.waits) || waits[0] != tc.waits[0]) {
				t.Fatalf("waits %v, want %v", waits, tc.waits)
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
