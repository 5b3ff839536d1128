// Package github is the GitHub forge: a proposal is a pull request from the proposal
// branch, found again by the hidden marker in its body. It speaks to github.com or a
// GitHub Enterprise Server through go-github, with a token or as a GitHub App, and
// retries what GitHub could not serve (5xx, rate limits, timeouts).
package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v60/github"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/forgehttp"
)

// Options configure the forge.
type Options struct {
	Owner      string
	Repository string
	// BaseURL is a GitHub Enterprise Server's API address; empty for github.com.
	BaseURL string
	// Token authenticates as a user or bot; or AppID, InstallationID and PrivateKey
	// authenticate as a GitHub App installation.
	Token          string
	AppID          int64
	InstallationID int64
	PrivateKey     []byte
	// Transport carries the requests; nil is http.DefaultTransport.
	Transport http.RoundTripper
	Retry     Retry
	Now       func() time.Time
	// Sleep waits between retries; tests replace it to see the waits without taking them.
	Sleep  func(context.Context, time.Duration) error
	Logger *slog.Logger
	// Reporters, when set, are whose checks count: the logins that create commit
	// statuses and the slugs of the Apps that make check runs. GitHub lets anyone
	// with write access set a status; this is the pin branch protection offers.
	Reporters []string
	// Budget, when set, is told of every answer (rate-limit headers, outcomes).
	Budget *Budget
	// CacheBytes bounds the conditional-request cache; 0 is DefaultCacheBytes.
	CacheBytes int
	// SelfFile, when set, keeps the remediator's login across processes (the CLI's
	// state_dir): `GET /user` is asked once per token, not once per command.
	SelfFile string
	// RecordFile, when set, keeps the remediator's pull requests across processes
	// (the state_dir): a one-shot command reads those updated since the last one
	// (one request), not every pull request the repository has.
	RecordFile string
}

// Forge opens and keeps up the remediator's pull requests on one repository.
type Forge struct {
	owner, repo string
	client      *gh.Client
	app         *ghinstallation.Transport
	token       string
	now         func() time.Time
	logger      *slog.Logger
	// appClient speaks as the App itself (a JWT), to learn its bot's name.
	appClient *gh.Client
	selfMu    sync.Mutex
	self      string
	reporters []string
	cache     *cacheTransport
	selfFile  string
	selfKey   string
	// recordFile keeps the pull requests read across processes (Options.RecordFile).
	recordFile string
	// known keeps what cannot change: pushers per head commit, the open heads of a
	// pass, the remediator's pull requests read so far.
	known *memory
}

// New builds the forge. It does not call GitHub.
func New(o Options) (*Forge, error) {
	if o.Owner == "" || o.Repository == "" {
		return nil, errors.New("github forge: owner and repository are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	base := o.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if o.Budget != nil {
		base = &meterTransport{base: base, budget: o.Budget}
	}
	retry := forgehttp.NewTransport(forgehttp.Options{Name: "github", Base: base, Policy: o.Retry, Limited: limited,
		Now: o.Now, Sleep: o.Sleep, Logger: o.Logger})
	cache := newCacheTransport(retry, o.CacheBytes)
	var rt http.RoundTripper = cache
	f := &Forge{owner: o.Owner, repo: o.Repository, token: o.Token, now: o.Now, logger: o.Logger, reporters: o.Reporters,
		cache: cache, selfFile: o.SelfFile, selfKey: selfKey(o), recordFile: o.RecordFile, known: newMemory()}
	switch {
	case o.Token != "" && o.AppID != 0:
		return nil, errors.New("github forge: set a token or a GitHub App, not both")
	case o.AppID != 0:
		if o.InstallationID == 0 || len(o.PrivateKey) == 0 {
			return nil, errors.New("github forge: a GitHub App needs app_id, installation_id and private_key_file")
		}
		itr, err := ghinstallation.New(rt, o.AppID, o.InstallationID, o.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("github forge: read the App's private key: %w", err)
		}
		if o.BaseURL != "" {
			itr.BaseURL = apiBase(o.BaseURL)
		}
		atr, err := ghinstallation.NewAppsTransport(rt, o.AppID, o.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("github forge: read the App's private key: %w", err)
		}
		f.appClient = gh.NewClient(&http.Client{Transport: atr})
		if o.BaseURL != "" {
			atr.BaseURL = apiBase(o.BaseURL)
			if f.appClient, err = f.appClient.WithEnterpriseURLs(o.BaseURL, o.BaseURL); err != nil {
				return nil, fmt.Errorf("github forge: base_url %q: %w", o.BaseURL, err)
			}
		}
		f.app, rt = itr, itr
	case o.Token == "":
		return nil, errors.New("github forge: no credentials: set token_env, or app_id with installation_id and private_key_file")
	}
	f.client = gh.NewClient(&http.Client{Transport: rt})
	if o.Token != "" {
		f.client = f.client.WithAuthToken(o.Token)
	}
	if o.BaseURL != "" {
		c, err := f.client.WithEnterpriseURLs(o.BaseURL, o.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("github forge: base_url %q: %w", o.BaseURL, err)
		}
		f.client = c
	}
	return f, nil
}

// apiBase is the API root ghinstallation asks for installation tokens, without the
// trailing slash: <host>/api/v3 on GitHub Enterprise Server, the address itself for
// an API host (https://api.github.com, a GHE.com api. host), as go-github reads it.
func apiBase(baseURL string) string {
	u := strings.TrimSuffix(baseURL, "/")
	if parsed, err := url.Parse(u); err == nil && (strings.HasPrefix(parsed.Host, "api.") || strings.Contains(parsed.Host, ".api.")) {
		return u
	}
	if !strings.HasSuffix(u, "/api/v3") {
		u += "/api/v3"
	}
	return u
}

// GitToken is the password for pushing to the repository over https: the token, or
// a fresh installation token of the App.
func (f *Forge) GitToken(ctx context.Context) (string, error) {
	if f.app != nil {
		tok, err := f.app.Token(ctx)
		if err != nil {
			return "", fmt.Errorf("github forge: installation token: %w", err)
		}
		return tok, nil
	}
	return f.token, nil
}

// Lookup finds the newest pull request the remediator opened from a branch, in any
// state. Pull requests without the marker (opened by a person) are not ours. It is
// served from the remediator's pull requests, read once and after that only those
// updated since, by one conditional request: a lookup costs at most one counted
// request, whatever the number of open pull requests.
func (f *Forge) Lookup(ctx context.Context, branch string) (forge.Proposal, bool, error) {
	props, err := f.syncProposals(ctx)
	if err != nil {
		return forge.Proposal{}, false, fmt.Errorf("github: look up %s: %w", branch, err)
	}
	var open, closed []forge.Proposal
	for _, p := range props {
		if p.State == forge.Open {
			open = append(open, p)
		} else {
			closed = append(closed, p)
		}
	}
	// An open pull request is its branch's newest.
	p, ok := newestOf(open, branch)
	if !ok {
		if p, ok = newestOf(closed, branch); !ok {
			return forge.Proposal{}, false, nil
		}
	}
	// Who closed it decides whether it was rejected: a close by anyone but the
	// remediator is, whatever labels it carries and even once reopened.
	p, err = f.withRejection(ctx, p)
	return p, err == nil, err
}

// ours says whether the remediator opened the pull request, from a branch of this
// repository: a marker in anyone else's pull request (a collaborator's, a fork's)
// names nothing the remediator will touch.
func (f *Forge) ours(ctx context.Context, pr *gh.PullRequest) (bool, error) {
	self, err := f.Self(ctx)
	if err != nil {
		return false, err
	}
	if !strings.EqualFold(pr.GetUser().GetLogin(), self) {
		return false, nil
	}
	return strings.EqualFold(pr.GetHead().GetRepo().GetFullName(), f.owner+"/"+f.repo), nil
}

// Self is the remediator's own login on GitHub: the token's user, or the App's bot
// account ("<slug>[bot]"). Asked once.
func (f *Forge) Self(ctx context.Context) (string, error) {
	f.selfMu.Lock()
	defer f.selfMu.Unlock()
	if f.self != "" {
		return f.self, nil
	}
	if f.self = f.readSelf(); f.self != "" {
		return f.self, nil
	}
	defer func() { f.writeSelf(f.self) }()
	if f.appClient != nil {
		app, _, err := f.appClient.Apps.Get(ctx, "")
		if err != nil {
			return "", fmt.Errorf("github: who is this App: %w", err)
		}
		f.self = app.GetSlug() + "[bot]"
		return f.self, nil
	}
	u, _, err := f.client.Users.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("github: who owns the token: %w", err)
	}
	f.self = u.GetLogin()
	return f.self, nil
}

// Pushers are the accounts that authored or committed a commit of the pull request.
// A head's commits never change: the answer is kept per head commit (the one the
// last pass read), and asked again only when the head moves.
func (f *Forge) Pushers(ctx context.Context, number int) ([]string, error) {
	head, known, ok := f.cachedPushers(number)
	if ok {
		return known, nil
	}
	last := ""
	seen := map[string]bool{}
	var out []string
	opts := &gh.ListOptions{PerPage: 100}
	for {
		commits, resp, err := f.client.PullRequests.ListCommits(ctx, f.owner, f.repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("github: commits of #%d: %w", number, err)
		}
		for _, c := range commits {
			last = c.GetSHA()
			for _, login := range []string{c.GetAuthor().GetLogin(), c.GetCommitter().GetLogin()} {
				if k := strings.ToLower(login); login != "" && !seen[k] {
					seen[k] = true
					out = append(out, login)
				}
			}
		}
		if resp.NextPage == 0 {
			f.keepPushers(head, last, out)
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// Open opens the pull request for a pushed branch, labels it and asks for the
// reviewers. Opening twice is safe: GitHub refuses a second pull request for the same
// branch, and the first is returned.
func (f *Forge) Open(ctx context.Context, r forge.Request) (forge.Proposal, error) {
	pr, _, err := f.client.PullRequests.Create(ctx, f.owner, f.repo, &gh.NewPullRequest{
		Title: gh.String(forge.Title(r.Artifact)), Head: gh.String(r.Branch), Base: gh.String(r.Base),
		Body: gh.String(forge.Body(r)), MaintainerCanModify: gh.Bool(false),
	})
	if err != nil {
		if alreadyExists(err) {
			p, found, lerr := f.Lookup(ctx, r.Branch)
			if lerr == nil && found && p.State == forge.Open {
				f.logger.Info("github: pull request already open", "remediation_id", r.Artifact.ID, "number", p.Number)
				return p, f.decorate(ctx, p, r, true)
			}
		}
		return forge.Proposal{}, fmt.Errorf("github: open pull request for %s: %w", r.Branch, err)
	}
	p, _ := proposal(pr)
	return p, f.decorate(ctx, p, r, true)
}

// decorate adds the labels the proposal lacks and, on opening, asks for the reviews.
func (f *Forge) decorate(ctx context.Context, p forge.Proposal, r forge.Request, review bool) error {
	var missing []string
	for _, l := range forge.Labels(r.Artifact) {
		if !slices.Contains(p.Labels, l) {
			missing = append(missing, l)
		}
	}
	if len(missing) > 0 {
		if _, _, err := f.client.Issues.AddLabelsToIssue(ctx, f.owner, f.repo, p.Number, missing); err != nil {
			return fmt.Errorf("github: label pull request #%d: %w", p.Number, err)
		}
	}
	if !review || len(r.Reviewers) == 0 {
		return nil
	}
	var req gh.ReviewersRequest
	for _, rv := range r.Reviewers {
		if org, team, ok := strings.Cut(rv, "/"); ok {
			if strings.EqualFold(org, f.owner) {
				req.TeamReviewers = append(req.TeamReviewers, team)
			} else {
				f.logger.Warn("github: team of another organisation cannot review here", "remediation_id", r.Artifact.ID, "team", rv)
			}
			continue
		}
		req.Reviewers = append(req.Reviewers, rv)
	}
	if _, _, err := f.client.PullRequests.RequestReviewers(ctx, f.owner, f.repo, p.Number, req); err != nil {
		// A reviewer GitHub refuses (not a collaborator, the author) leaves the pull
		// request open and says why: the approval gate still counts what it needs.
		var ge *gh.ErrorResponse
		if errors.As(err, &ge) && ge.Response.StatusCode == http.StatusUnprocessableEntity {
			f.logger.Warn("github: reviewers refused", "remediation_id", r.Artifact.ID, "number", p.Number, "error", ge.Message)
			return nil
		}
		return fmt.Errorf("github: request reviewers on #%d: %w", p.Number, err)
	}
	return nil
}

// Recur records a repeat of the anomaly on the open pull request: the body is
// rewritten only when it changed, missing labels are restored, reviews are asked for
// again when none is requested and nobody has reviewed (the request was lost between
// opening and asking), and the one recurrence comment counts the repeat. It returns
// the count.
func (f *Forge) Recur(ctx context.Context, p forge.Proposal, r forge.Request) (int, error) {
	if body := forge.Body(r); body != p.Body {
		if _, _, err := f.client.PullRequests.Edit(ctx, f.owner, f.repo, p.Number, &gh.PullRequest{Body: gh.String(body)}); err != nil {
			return 0, fmt.Errorf("github: update pull request #%d: %w", p.Number, err)
		}
	}
	reask := false
	if p.ReviewRequests == 0 && len(r.Reviewers) > 0 {
		// GitHub drops a request once its reviewer reviews: only a pull request
		// nobody has reviewed yet lost its requests.
		reviews, err := f.Reviews(ctx, p.Number)
		if err != nil {
			return 0, err
		}
		reask = len(reviews) == 0
	}
	if err := f.decorate(ctx, p, r, reask); err != nil {
		return 0, err
	}
	marker := forge.RecurrenceMarker(r.Artifact.ID)
	var existing *gh.IssueComment
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for existing == nil {
		comments, resp, err := f.client.Issues.ListComments(ctx, f.owner, f.repo, p.Number, opts)
		if err != nil {
			return 0, fmt.Errorf("github: read comments of #%d: %w", p.Number, err)
		}
		for _, c := range comments {
			if strings.Contains(c.GetBody(), marker) {
				existing = c
				break
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	count := 1
	if existing != nil {
		count = forge.ParseRecurrence(existing.GetBody()) + 1
	}
	body := forge.RecurrenceComment(r.Artifact.ID, count, r.Seen.UTC().Format(time.RFC3339), r.Value)
	var err error
	if existing != nil {
		_, _, err = f.client.Issues.EditComment(ctx, f.owner, f.repo, existing.GetID(), &gh.IssueComment{Body: gh.String(body)})
	} else {
		_, _, err = f.client.Issues.CreateComment(ctx, f.owner, f.repo, p.Number, &gh.IssueComment{Body: gh.String(body)})
	}
	if err != nil {
		return 0, fmt.Errorf("github: count recurrence on #%d: %w", p.Number, err)
	}
	return count, nil
}

// Proposals lists the remediator's pull requests that are open, and those created
// since the given time in any state: what the policy limits are counted from. They
// come from what was read before, brought up to date by one conditional request.
func (f *Forge) Proposals(ctx context.Context, since time.Time) ([]forge.Proposal, error) {
	props, err := f.syncProposals(ctx)
	if err != nil {
		return nil, err
	}
	var out []forge.Proposal
	for _, p := range props {
		if p.State == forge.Open || !p.Created.Before(since) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b forge.Proposal) int { return b.Number - a.Number })
	return out, nil
}

// proposal reads a pull request; ok is false when it is not the remediator's.
func proposal(pr *gh.PullRequest) (forge.Proposal, bool) {
	fields, ok := forge.ParseMarker(pr.GetBody())
	if !ok {
		return forge.Proposal{}, false
	}
	p := forge.Proposal{
		ID: fields["id"], Runbook: fields["runbook"], Policy: fields["policy"],
		Branch: pr.GetHead().GetRef(), Number: pr.GetNumber(), URL: pr.GetHTMLURL(),
		Created: pr.GetCreatedAt().Time, Head: pr.GetHead().GetSHA(), Body: pr.GetBody(), State: forge.Open,
		Author: pr.GetUser().GetLogin(), ReviewRequests: len(pr.RequestedReviewers) + len(pr.RequestedTeams),
		Base: pr.GetBase().GetRef(),
	}
	for _, l := range pr.Labels {
		p.Labels = append(p.Labels, l.GetName())
	}
	switch {
	case pr.MergedAt != nil:
		p.State, p.Closed = forge.Merged, pr.GetMergedAt().Time
	case pr.GetState() == "closed":
		p.State, p.Closed = forge.Closed, pr.GetClosedAt().Time
	}
	return p, true
}

// alreadyExists is GitHub's answer to a second pull request for one branch.
func alreadyExists(err error) bool {
	var ge *gh.ErrorResponse
	if !errors.As(err, &ge) || ge.Response == nil || ge.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, e := range ge.Errors {
		if strings.Contains(strings.ToLower(e.Message), "already exists") {
			return true
		}
	}
	return strings.Contains(strings.ToLower(ge.Message), "already exists")
}

// Close comments why and closes the pull request without merging it, labelled
// resolved: a rejection by a reviewer suppresses the anomaly for the cooldown, this
// does not.
func (f *Forge) Close(ctx context.Context, p forge.Proposal, reason string) error {
	return f.closeLabeled(ctx, p, reason, forge.LabelResolved)
}

// closeLabeled labels the pull request with why it is closed, says so in one
// comment, and closes it.
func (f *Forge) closeLabeled(ctx context.Context, p forge.Proposal, reason, label string) error {
	if _, _, err := f.client.Issues.AddLabelsToIssue(ctx, f.owner, f.repo, p.Number, []string{label}); err != nil {
		return fmt.Errorf("github: label #%d: %w", p.Number, err)
	}
	// One comment, found by its marker: a close retried after a failure half-way
	// edits it rather than saying it twice.
	if err := f.UpsertComment(ctx, p.Number, "<!-- remediation:closed -->", reason); err != nil {
		return err
	}
	if _, _, err := f.client.PullRequests.Edit(ctx, f.owner, f.repo, p.Number, &gh.PullRequest{State: gh.String("closed")}); err != nil {
		return fmt.Errorf("github: close #%d: %w", p.Number, err)
	}
	return nil
}

// Reviews lists every review of a pull request, oldest first.
func (f *Forge) Reviews(ctx context.Context, number int) ([]forge.Review, error) {
	if kept, ok := f.cachedReviews(number); ok {
		return kept, nil
	}
	var out []forge.Review
	opts := &gh.ListOptions{PerPage: 100}
	for {
		reviews, resp, err := f.client.PullRequests.ListReviews(ctx, f.owner, f.repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("github: reviews of #%d: %w", number, err)
		}
		for _, r := range reviews {
			login := r.GetUser().GetLogin()
			out = append(out, forge.Review{ID: r.GetID(), Login: login, Bot: r.GetUser().GetType() == "Bot" || strings.HasSuffix(login, "[bot]"),
				State: r.GetState(), CommitID: r.GetCommitID(), Submitted: r.GetSubmittedAt().Time})
		}
		if resp.NextPage == 0 {
			f.keepReviews(number, out, resp)
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// Merge merges the pull request at exactly the reviewed head sha (GitHub refuses with
// 409 when the branch moved: the compare-and-swap), with a merge commit whose message
// the caller writes (its trailers). It returns the merge commit.
func (f *Forge) Merge(ctx context.Context, number int, sha, title, message string) (string, error) {
	res, _, err := f.client.PullRequests.Merge(ctx, f.owner, f.repo, number, message,
		&gh.PullRequestOptions{CommitTitle: title, SHA: sha, MergeMethod: "merge"})
	if err != nil {
		var ge *gh.ErrorResponse
		if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusConflict {
			return "", fmt.Errorf("github: merge #%d at %s: %w", number, sha, forge.ErrHeadMoved)
		}
		if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusMethodNotAllowed {
			// Branch protection GitHub enforces itself (required checks or reviews
			// it knows of, a conflict): GitHub's message says which.
			return "", fmt.Errorf("github: merge #%d: %w: %s", number, forge.ErrNotMergeable, ge.Message)
		}
		return "", fmt.Errorf("github: merge #%d: %w", number, err)
	}
	return res.GetSHA(), nil
}

// PullRequests is the forge itself: GitHub has its own review objects.
func (f *Forge) PullRequests() forge.PullRequests { return f }

var _ forge.Forge = (*Forge)(nil)
