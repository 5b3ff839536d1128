package server

import (
	gh "github.com/google/go-github/v60/github"
)

// GitHubTarget is what a verified webhook delivery concerns: a pull request by
// number, or a commit by sha (a status or check run reports on a head). Zero when
// the delivery names neither: then the whole pass is due.
type GitHubTarget struct {
	PullRequest int
	Commit      string
}

// githubTarget reads from a delivery's payload only where to look. It decides
// nothing: the pass reads the pull request, its reviews and checks from GitHub.
func githubTarget(event string, payload []byte) GitHubTarget {
	parsed, err := gh.ParseWebHook(event, payload)
	if err != nil {
		return GitHubTarget{}
	}
	switch e := parsed.(type) {
	case *gh.PullRequestEvent:
		return GitHubTarget{PullRequest: e.GetPullRequest().GetNumber(), Commit: e.GetPullRequest().GetHead().GetSHA()}
	case *gh.PullRequestReviewEvent:
		return GitHubTarget{PullRequest: e.GetPullRequest().GetNumber(), Commit: e.GetPullRequest().GetHead().GetSHA()}
	case *gh.CheckRunEvent:
		return GitHubTarget{Commit: e.GetCheckRun().GetHeadSHA()}
	case *gh.CheckSuiteEvent:
		return GitHubTarget{Commit: e.GetCheckSuite().GetHeadSHA()}
	case *gh.StatusEvent:
		return GitHubTarget{Commit: e.GetSHA()}
	}
	return GitHubTarget{}
}
