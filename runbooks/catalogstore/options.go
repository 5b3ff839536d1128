// Package catalogstore keeps a runbook catalog in a Git repository: it reads the
// catalog at a ref and commits and pushes document changes, sharing pushes between
// the writers of one process and retrying against writers in other processes.
package catalogstore

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// Defaults for Options.
const (
	DefaultBranch      = "main"
	DefaultDirectory   = "catalog"
	DefaultAuthorName  = "terraform-provider-remediation"
	DefaultAuthorEmail = "remediation@localhost"
	DefaultMaxAttempts = 60
)

// Options configure a Store.
type Options struct {
	// Repository is a local path, or a file://, https:// or ssh:// URL (scp-like
	// git@host:path too).
	Repository string
	Branch     string
	// Directory holds runbooks/ and policies/ inside the repository.
	Directory string
	// Token authenticates https:// (sent as the password of x-access-token).
	Token string
	// SSHPrivateKey is a PEM private key for ssh:// URLs; host keys are checked against
	// the user's known_hosts.
	SSHPrivateKey string
	AuthorName    string
	AuthorEmail   string
	// MaxAttempts bounds how often a write is re-applied after another writer won the
	// race to push.
	MaxAttempts int
	// Now is the clock for commit times; Sleep waits between attempts. Both default to
	// the real ones and exist so tests control time.
	Now   func() time.Time
	Sleep func(time.Duration)
	// Logger receives progress; defaults to slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Branch == "" {
		o.Branch = DefaultBranch
	}
	if o.Directory == "" {
		o.Directory = DefaultDirectory
	}
	if o.AuthorName == "" {
		o.AuthorName = DefaultAuthorName
	}
	if o.AuthorEmail == "" {
		o.AuthorEmail = DefaultAuthorEmail
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// endpoint turns the repository setting into a go-git endpoint and credentials.
func (o Options) endpoint() (string, transport.AuthMethod, error) {
	return Endpoint(o.Repository, o.Token, o.SSHPrivateKey)
}

// Endpoint resolves a repository given as a local path (made absolute), a file://,
// https:// or ssh:// URL, or an scp-like address, with the credentials its protocol
// uses: the token for https, the private key for ssh. Secrets never reach its errors.
func Endpoint(repository, token, sshPrivateKey string) (string, transport.AuthMethod, error) {
	repo := strings.TrimSpace(repository)
	if repo == "" {
		return "", nil, fmt.Errorf("repository is empty: give a local path or a file://, https:// or ssh:// URL")
	}
	if !strings.Contains(repo, "://") && !isSCPLike(repo) {
		abs, err := filepath.Abs(repo)
		if err != nil {
			return "", nil, fmt.Errorf("repository path %q: %w", repo, err)
		}
		repo = abs
	}
	ep, err := transport.NewEndpoint(repo)
	if err != nil {
		return "", nil, fmt.Errorf("repository %q: %w", RedactURL(repo), err)
	}
	switch ep.Protocol {
	case "file":
		return repo, nil, nil
	case "http", "https":
		if token == "" {
			return repo, nil, nil
		}
		return repo, &githttp.BasicAuth{Username: "x-access-token", Password: token}, nil
	case "ssh":
		if sshPrivateKey == "" {
			return repo, nil, nil // go-git falls back to the SSH agent
		}
		user := ep.User
		if user == "" {
			user = "git"
		}
		keys, err := gitssh.NewPublicKeys(user, []byte(sshPrivateKey), "")
		if err != nil {
			// The key itself must never reach an error message.
			return "", nil, fmt.Errorf("ssh private key: cannot parse it (want an unencrypted PEM or OpenSSH key)")
		}
		return repo, keys, nil
	}
	return "", nil, fmt.Errorf("repository %q: unsupported protocol %q: use a local path, file://, https:// or ssh://", RedactURL(repo), ep.Protocol)
}

func isSCPLike(s string) bool {
	at := strings.Index(s, "@")
	colon := strings.Index(s, ":")
	return at > 0 && colon > at && !strings.Contains(s[:colon], "/")
}

// RedactURL hides a password or token embedded in a repository URL: the password,
// and over http(s) a user name alone too, since a token is often given that way
// (https://TOKEN@host/repo.git). An ssh user name (git@) is not a secret.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	switch _, ok := u.User.Password(); {
	case ok:
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	case u.Scheme == "http" || u.Scheme == "https":
		u.User = url.User("REDACTED")
	}
	return u.String()
}

// jitter spreads retries of competing writers: full jitter under a ceiling that starts
// small, so that a writer who just lost can race the winner's next push on equal terms,
// and grows to 2s, so that a writer facing a long burst from another process outlasts
// it instead of giving up.
func jitter(attempt int) time.Duration {
	ceiling := min(10*time.Millisecond<<min(attempt-1, 8), 2*time.Second)
	return time.Duration(rand.Int64N(int64(ceiling)))
}
