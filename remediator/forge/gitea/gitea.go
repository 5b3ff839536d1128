// Package gitea is the Gitea forge (Gitea 1.2x and Forgejo, which shares its API): a
// proposal is a pull request the remediator's own account opened from a branch of the
// same repository, found again by the hidden marker in its body. It speaks Gitea's
// API through Gitea's own client library (code.gitea.io/sdk/gitea), with a token,
// and retries what Gitea could not serve (429 and 5xx, honouring Retry-After).
//
// Gitea's model differs from GitHub's where it matters to the gates, and each
// difference is mapped here, never in the lifecycle: review states have other names
// (REQUEST_CHANGES, COMMENT, PENDING, REQUEST_REVIEW), a review carries official,
// stale and dismissed flags, checks are commit statuses only, the merge is a POST
// naming head_commit_id, and a 405 may mean "mergeability not computed yet".
package gitea

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/forgehttp"
)

// Options configure the forge.
type Options struct {
	// BaseURL is the Gitea server's address, e.g. https://gitea.example.com.
	BaseURL    string
	Owner      string
	Repository string
	// Token authenticates as the remediator's own account.
	Token string
	// Transport carries the requests; nil is http.DefaultTransport.
	Transport http.RoundTripper
	Retry     Retry
	// Sleep waits between retries; tests replace it to see the waits without taking them.
	Sleep  func(context.Context, time.Duration) error
	Now    func() time.Time
	Logger *slog.Logger
	// Reporters are the logins whose commit statuses count (forge.check_reporters);
	// none, and none counts: checks fail closed. Gitea lets anyone with write access
	// set a status, so the creator is pinned.
	Reporters []string
}

// Forge opens and keeps up the remediator's pull requests on one Gitea repository.
type Forge struct {
	base, owner, repo string
	token             string
	http              *http.Client
	now               func() time.Time
	logger            *slog.Logger
	reporters         []string
	selfMu            sync.Mutex
	self              string
}

// requestTimeout bounds one call, its retries included: a Gitea that stops answering
// fails the pass, which the next one repeats, instead of holding it for ever.
const requestTimeout = 5 * time.Minute

// New builds the forge. It does not call Gitea.
func New(o Options) (*Forge, error) {
	switch {
	case o.BaseURL == "":
		return nil, errors.New("gitea forge: base_url is required")
	case o.Owner == "" || o.Repository == "":
		return nil, errors.New("gitea forge: owner and repository are required")
	case o.Token == "":
		return nil, errors.New("gitea forge: no credentials: set token_env or token_file")
	case !strings.HasPrefix(o.BaseURL, "https://") && !strings.HasPrefix(o.BaseURL, "http://"):
		return nil, fmt.Errorf("gitea forge: base_url %q: want http(s)://host[:port][/path]", o.BaseURL)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Retry.Attempts == 0 {
		o.Retry = DefaultRetry
	}
	rt := forgehttp.NewTransport(forgehttp.Options{Name: "gitea", Base: o.Transport, Policy: o.Retry, Now: o.Now, Sleep: o.Sleep, Logger: o.Logger})
	return &Forge{base: strings.TrimSuffix(o.BaseURL, "/"), owner: o.Owner, repo: o.Repository, token: o.Token,
		http: &http.Client{Transport: rt, Timeout: requestTimeout}, now: o.Now, logger: o.Logger, reporters: o.Reporters}, nil
}

// client is Gitea's client for one call's context. The library keeps its context
// in the client, so each call gets its own; the version probe is skipped (Forgejo
// and a source build report versions the library cannot compare), and this forge
// uses only endpoints Gitea 1.20 and later serve.
func (f *Forge) client(ctx context.Context) *sdk.Client {
	c, err := sdk.NewClient(f.base, sdk.SetToken(f.token), sdk.SetHTTPClient(f.http), sdk.SetContext(ctx), sdk.SetGiteaVersion(""))
	if err != nil { // only an option can fail, and none of these does
		panic(fmt.Sprintf("gitea forge: build client: %v", err))
	}
	return c
}

// GitToken is the password for pushing to the repository over https.
func (f *Forge) GitToken(context.Context) (string, error) { return f.token, nil }

// PullRequests is the forge itself: Gitea has its own review objects.
func (f *Forge) PullRequests() forge.PullRequests { return f }

var _ forge.Forge = (*Forge)(nil)

// Self is the remediator's own login: the token's user. Asked once.
func (f *Forge) Self(ctx context.Context) (string, error) {
	f.selfMu.Lock()
	defer f.selfMu.Unlock()
	if f.self != "" {
		return f.self, nil
	}
	u, _, err := f.client(ctx).GetMyUserInfo()
	if err != nil {
		return "", fmt.Errorf("gitea: who owns the token: %w", err)
	}
	f.self = u.UserName
	return f.self, nil
}

// status is the HTTP status of a library answer, 0 without one.
func status(resp *sdk.Response) int {
	if resp == nil || resp.Response == nil {
		return 0
	}
	return resp.StatusCode
}
