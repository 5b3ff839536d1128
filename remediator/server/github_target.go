package server

import (
	gh "github.com/google/go-github/v60/github"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// githubTarget reads from a delivery's payload only where to look. It decides
// nothing: the pass reads the pull request, its reviews and checks from GitHub.
func githubTarget(event string, payload []byte) forge.Target {
	parsed, err := gh.ParseWebHook(event, payload)
	if err != nil {
		return forge.Target{}
	}
	switch e := parsed.(type) {
	case *gh.PullRequestEvent:
		return forge.Target{Number: e.GetPullRequest().GetNumber(), Commit: e.GetPullRequest().GetHead().GetSHA()}
	case *gh.PullRequestReviewEvent:
		return forge.Target{Number: e.GetPullRequest().GetNumber(), Commit: e.GetPullRequest().GetHead().GetSHA()}
	case *gh.CheckRunEvent:
		return forge.Target{Commit: e.GetCheckRun().GetHeadSHA()}
	case *gh.CheckSuiteEvent:
		return forge.Target{Commit: e.GetCheckSuite().GetHeadSHA()}
	case *gh.StatusEvent:
		return forge.Target{Commit: e.GetSHA()}
	}
	return forge.Target{}
}
