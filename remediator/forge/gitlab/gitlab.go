// Package gitlab is the GitLab forge (GitLab.com and self-managed): a proposal is a
// merge request the remediator's own user (or a project or group access token's bot)
// opened from a branch of the same project, found again by the hidden marker in its
// description. It speaks GitLab's API v4 through GitLab's own client library
// (gitlab.com/gitlab-org/api/client-go), with a token, and retries what GitLab could
// not serve by the policy every forge shares (forgehttp).
//
// GitLab's model differs from GitHub's where it matters to the gates, and each
// difference is mapped here, never in the lifecycle:
//   - an approval names who and when, never a commit: it counts for the head only
//     when GitLab dated it after the merge request's newest version (GitLab's own
//     record of each push), whatever any commit claims;
//   - who pushed is GitLab's push events on the source branch, by the pushing user;
//   - access is the member's access level, developer (30) or more to approve;
//   - checks are commit statuses (pipeline jobs and external statuses) with the user
//     that reported them;
//   - the merge is a PUT naming sha (409 when the head moved), squash and
//     auto-merge off, with the remediator's merge commit message.
package gitlab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/forgehttp"
)

// Options configure the forge.
type Options struct {
	// BaseURL is the GitLab server's address, e.g. https://gitlab.com.
	BaseURL string
	// Project is the project's full path (group/subgroup/name) or numeric id.
	Project string
	// Token authenticates as the remediator's own user or bot.
	Token string
	// Transport carries the requests; nil is http.DefaultTransport.
	Transport http.RoundTripper
	Retry     forgehttp.Policy
	// Sleep waits between retries; tests replace it to see the waits without taking them.
	Sleep  func(context.Context, time.Duration) error
	Now    func() time.Time
	Logger *slog.Logger
	// Reporters are the usernames whose commit statuses count (forge.check_reporters);
	// none, and none counts: checks fail closed. A pipeline's jobs are reported by
	// the user the pipeline ran as; anyone with developer access may set a status.
	Reporters []string
}

// Forge opens and keeps up the remediator's merge requests on one GitLab project.
type Forge struct {
	project   string
	token     string
	api       *gl.Client
	now       func() time.Time
	logger    *slog.Logger
	reporters []string
	// known is what the forge keeps between passes (memory.go).
	known *memory

	mu          sync.Mutex
	self        string
	selfID      int64
	projectID   int64
	mergeMethod gl.MergeMethodValue
	// settingsChecked: the project's approval settings were read (once, at the
	// first pass).
	settingsChecked bool
}

// requestTimeout bounds one call, its retries included.
const requestTimeout = 5 * time.Minute

// New builds the forge. It does not call GitLab.
func New(o Options) (*Forge, error) {
	switch {
	case o.BaseURL == "":
		return nil, errors.New("gitlab forge: base_url is required")
	case o.Project == "":
		return nil, errors.New("gitlab forge: project is required")
	case o.Token == "":
		return nil, errors.New("gitlab forge: no credentials: set token_env or token_file")
	case !strings.HasPrefix(o.BaseURL, "https://") && !strings.HasPrefix(o.BaseURL, "http://"):
		return nil, fmt.Errorf("gitlab forge: base_url %q: want http(s)://host[:port][/path]", o.BaseURL)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	rt := forgehttp.NewTransport(forgehttp.Options{Name: "gitlab", Base: o.Transport, Policy: o.Retry, Now: o.Now, Sleep: o.Sleep, Logger: o.Logger})
	// The library's own retries are off: the shared policy retries, once.
	api, err := gl.NewClient(o.Token, gl.WithBaseURL(strings.TrimSuffix(o.BaseURL, "/")),
		gl.WithHTTPClient(&http.Client{Transport: rt, Timeout: requestTimeout}), gl.WithoutRetries())
	if err != nil {
		return nil, fmt.Errorf("gitlab forge: base_url %q: %w", o.BaseURL, err)
	}
	return &Forge{project: o.Project, token: o.Token, api: api, now: o.Now, logger: o.Logger, reporters: o.Reporters, known: newMemory()}, nil
}

// GitToken is the password for pushing to the project over https.
func (f *Forge) GitToken(context.Context) (string, error) { return f.token, nil }

// PullRequests is the forge itself: GitLab has its own review objects.
func (f *Forge) PullRequests() forge.PullRequests { return f }

var _ forge.Forge = (*Forge)(nil)

// Self is the remediator's own username: the token's user. Asked once.
func (f *Forge) Self(ctx context.Context) (string, error) {
	_, name, err := f.selfUser(ctx)
	return name, err
}

func (f *Forge) selfUser(ctx context.Context) (int64, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.self != "" {
		return f.selfID, f.self, nil
	}
	u, _, err := f.api.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return 0, "", fmt.Errorf("gitlab: who owns the token: %w", err)
	}
	f.self, f.selfID = u.Username, u.ID
	return f.selfID, f.self, nil
}

// projectIDOf is the project's numeric id, which a merge request's source and
// target project are compared with. Asked once.
func (f *Forge) projectIDOf(ctx context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.projectID != 0 {
		return f.projectID, nil
	}
	p, err := f.readProject(ctx)
	if err != nil {
		return 0, err
	}
	f.projectID, f.mergeMethod = p.ID, p.MergeMethod
	return f.projectID, nil
}

func (f *Forge) readProject(ctx context.Context) (*gl.Project, error) {
	p, _, err := f.api.Projects.GetProject(f.project, nil, gl.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("gitlab: read project %s: %w", f.project, err)
	}
	return p, nil
}

// checkCommitterSetting warns, once, when the project lets people who added commits
// to a merge request approve it. Only GitLab can tell whose a commit is (it matches
// a commit's author and committer email to every verified email of an account; the
// API shows the remediator no one's private email): with "Prevent approvals by users
// who add commits" on, GitLab refuses such an approval, and the remediator counts
// only approvals GitLab accepted. Without it, a pusher never approves, but someone
// whose commits another person pushed may.
func (f *Forge) checkCommitterSetting(ctx context.Context) {
	f.mu.Lock()
	done := f.settingsChecked
	f.settingsChecked = true
	f.mu.Unlock()
	if done {
		return
	}
	a, _, err := f.api.Projects.GetApprovalConfiguration(f.project, gl.WithContext(ctx))
	switch {
	case err != nil:
		f.logger.Warn("gitlab: cannot read the project's approval settings: whether commit authors may approve is unknown", "project", f.project, "err", err)
	case !a.MergeRequestsDisableCommittersApproval:
		f.logger.Warn("gitlab: the project lets people who added commits approve (merge_requests_disable_committers_approval is off): "+
			"a commit's author whose commit someone else pushed may approve it; turn on Settings > Merge requests > "+
			"\"Prevent approvals by users who add commits\"", "project", f.project)
	}
}

// errFastForward is a project that merges fast-forward only: the remediator's merge
// commit, which carries the trailers that make a merge reconstructable from Git
// alone, cannot exist there, so it never merges on it.
var errFastForward = errors.New(`merges by fast-forward only (Settings > Merge requests > Merge method "Fast-forward merge", merge_method "ff"), ` +
	`where the remediator's merge commit and its trailers cannot exist: set the merge method to "Merge commit" (merge_method "merge") ` +
	`or "Merge commit with semi-linear history" (rebase_merge)`)

// mergeMethodRefusal says why the project's merge method forbids the remediator's
// merges, or nil.
func (f *Forge) mergeMethodRefusal(method gl.MergeMethodValue) error {
	if method == gl.FastForwardMerge {
		return fmt.Errorf("gitlab: project %s %w", f.project, errFastForward)
	}
	return nil
}

// status is the HTTP status of a library error, 0 without one.
func status(err error) int {
	var er *gl.ErrorResponse
	if !errors.As(err, &er) {
		return 0
	}
	if er.StatusCode != 0 {
		return er.StatusCode
	}
	if er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// userID finds a user's id by username; ok is false when GitLab knows no such user.
func (f *Forge) userID(ctx context.Context, username string) (int64, bool, error) {
	users, _, err := f.api.Users.ListUsers(&gl.ListUsersOptions{Username: gl.Ptr(username)}, gl.WithContext(ctx))
	if err != nil {
		return 0, false, fmt.Errorf("gitlab: find user %s: %w", username, err)
	}
	for _, u := range users {
		if strings.EqualFold(u.Username, username) {
			return u.ID, true, nil
		}
	}
	return 0, false, nil
}

// perPage is GitLab's largest page.
const perPage = 100
