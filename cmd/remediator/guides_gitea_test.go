package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The Gitea guide runs as written against a real Gitea, with serve in the
// background: only git.example.com, the Alertmanager and serve's own address are
// swapped, and the organisation's name (one Gitea serves the package's whole run).
// What the guide's section 2 asks of the reader outside the terminal is done here
// first: the three accounts and their tokens, the remediator's saved in
// ~/remediation/remediator.token. Everything else (the organisation, its team, the
// repositories, access, branch protection, the webhook) the guide does itself.
func TestGuideGitea(t *testing.T) {
	s := sharedGitea.Need(t)
	you, bot, ci := s.User(t, "guide-reader"), s.User(t, "remediation-bot"), s.User(t, "ci")
	org := fmt.Sprintf("acme%d", time.Now().UnixNano())
	// The alert fires until the remediation is merged: before, the remediator must
	// not close the proposal as resolved.
	firingUntilMerged := func() bool {
		var prs []giteaPR
		err := s.API(context.Background(), "guide-reader", http.MethodGet, "/repos/"+org+"/infra/pulls?state=all", nil, &prs)
		return err != nil || len(prs) == 0 || !prs[0].Merged
	}
	addr := freeAddr(t)
	n, out := runGuideWith(t, "getting-started-gitea.md", guideRun{
		swaps: map[string]string{
			"https://git.example.com": s.URL, "acme": org,
			"127.0.0.1:9093": fakeAlertmanager(t, firingUntilMerged), "127.0.0.1:8080": addr,
		},
		env:  []string{"GITEA_TOKEN=" + you, "CI_TOKEN=" + ci},
		logs: []string{"remediation/serve.log"},
		prepare: func(home string) {
			writeFile(t, filepath.Join(home, "remediation", "remediator.token"), bot+"\n")
		},
	})
	t.Logf("getting-started-gitea.md: %d blocks ran", n)
	for _, want := range []string{
		"approvals required: 1,", "pull request #1: remediation/scale-out-api-", "plan-check: passed",
		"replicas      = 8", "merged, being verified (1)", "soaking since",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the guide's output lacks %q", want)
		}
	}
	var prs []giteaPR
	if err := s.API(context.Background(), "guide-reader", http.MethodGet, "/repos/"+org+"/infra/pulls?state=all", nil, &prs); err != nil {
		t.Fatal(err)
	}
	if len(prs) != 1 || !prs[0].Merged {
		t.Fatalf("pull requests after the guide: %+v", prs)
	}
	// The merge is the remediator's account's, at the head the reader approved.
	var merged struct {
		MergedBy struct {
			Login string `json:"login"`
		} `json:"merged_by"`
	}
	if err := s.API(context.Background(), "guide-reader", http.MethodGet, fmt.Sprintf("/repos/%s/infra/pulls/%d", org, prs[0].Number), nil, &merged); err != nil {
		t.Fatal(err)
	}
	if merged.MergedBy.Login != "remediation-bot" {
		t.Errorf("merged by %q, want remediation-bot", merged.MergedBy.Login)
	}
}
