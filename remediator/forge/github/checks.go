package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// AnyReporter is the forge.check_reporters value that counts every status and check
// run, as GitHub itself does (anyone with write access can set a status): an
// operator's explicit choice, never the default.
const AnyReporter = "*"

// Checks reports every named check on a commit that a reporter made: commit statuses
// by context and check runs by name, the newest of each. A name absent from the map
// has not reported. Only statuses the reporters' logins created and check runs their
// Apps made count; with no reporters none does (checks fail closed), and with
// AnyReporter every one counts (the combined status and the latest runs).
func (f *Forge) Checks(ctx context.Context, sha string) (map[string]forge.CheckState, error) {
	out := map[string]forge.CheckState{}
	if len(f.reporters) == 0 {
		return out, nil
	}
	add := func(name string, s forge.CheckState) {
		if old, ok := out[name]; ok {
			s = forge.Worse(old, s)
		}
		out[name] = s
	}
	if err := f.statuses(ctx, sha, add); err != nil {
		return nil, err
	}
	anyone := f.anyReporter()
	runOpts := &gh.ListCheckRunsOptions{Filter: gh.String("latest"), ListOptions: gh.ListOptions{PerPage: 100}}
	if !anyone {
		runOpts.Filter = gh.String("all") // the latest run of a name may be an untrusted App's
	}
	seen := map[string]bool{}
	for {
		runs, resp, err := f.client.Checks.ListCheckRunsForRef(ctx, f.owner, f.repo, sha, runOpts)
		if err != nil {
			return nil, fmt.Errorf("github: check runs of %s: %w", sha, err)
		}
		for _, r := range runs.CheckRuns {
			if !anyone && (!f.trusted(r.GetApp().GetSlug()) || seen[r.GetName()]) {
				continue // newest first: the first trusted run of a name is its latest
			}
			seen[r.GetName()] = true
			add(r.GetName(), runState(r.GetStatus(), r.GetConclusion()))
		}
		if resp.NextPage == 0 {
			break
		}
		runOpts.Page = resp.NextPage
	}
	return out, nil
}

// statuses adds the commit statuses: the newest status per context among those a
// reporter created (only the full list names each status's creator), or with
// AnyReporter the combined status.
func (f *Forge) statuses(ctx context.Context, sha string, add func(string, forge.CheckState)) error {
	opts := &gh.ListOptions{PerPage: 100}
	if f.anyReporter() {
		for {
			combined, resp, err := f.client.Repositories.GetCombinedStatus(ctx, f.owner, f.repo, sha, opts)
			if err != nil {
				return fmt.Errorf("github: statuses of %s: %w", sha, err)
			}
			for _, s := range combined.Statuses {
				add(s.GetContext(), statusState(s.GetState()))
			}
			if resp.NextPage == 0 {
				return nil
			}
			opts.Page = resp.NextPage
		}
	}
	seen := map[string]bool{}
	for {
		list, resp, err := f.client.Repositories.ListStatuses(ctx, f.owner, f.repo, sha, opts)
		if err != nil {
			return fmt.Errorf("github: statuses of %s: %w", sha, err)
		}
		for _, s := range list {
			if seen[s.GetContext()] || !f.trusted(s.GetCreator().GetLogin()) {
				continue
			}
			seen[s.GetContext()] = true
			add(s.GetContext(), statusState(s.GetState()))
		}
		if resp.NextPage == 0 {
			return nil
		}
		opts.Page = resp.NextPage
	}
}

// anyReporter says whether the operator chose to count every status and check run.
func (f *Forge) anyReporter() bool {
	return len(f.reporters) == 1 && f.reporters[0] == AnyReporter
}

// trusted says whether a status creator's login or a check run's App slug may report.
func (f *Forge) trusted(who string) bool {
	for _, r := range f.reporters {
		if who != "" && strings.EqualFold(r, who) {
			return true
		}
	}
	return false
}

// statusState maps a commit status: error counts as failure.
func statusState(s string) forge.CheckState {
	switch s {
	case "success":
		return forge.CheckSuccess
	case "pending":
		return forge.CheckPending
	default:
		return forge.CheckFailure
	}
}

// runState maps a check run as branch protection does: a run still going is pending;
// success, neutral and skipped pass; every other conclusion fails.
func runState(status, conclusion string) forge.CheckState {
	if status != "completed" {
		return forge.CheckPending
	}
	switch conclusion {
	case "success", "neutral", "skipped":
		return forge.CheckSuccess
	default:
		return forge.CheckFailure
	}
}

// TeamMember reports whether login is an active member of team "org/slug". GitHub
// answers 404 both for "not a member" and for a team the token cannot see.
func (f *Forge) TeamMember(ctx context.Context, team, login string) (bool, error) {
	org, slug, ok := strings.Cut(team, "/")
	if !ok {
		return false, fmt.Errorf("github: team %q: want org/team", team)
	}
	m, _, err := f.client.Teams.GetTeamMembershipBySlug(ctx, org, slug, login)
	var ge *gh.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("github: membership of %s in %s: %w", login, team, err)
	}
	return m.GetState() == "active", nil
}
