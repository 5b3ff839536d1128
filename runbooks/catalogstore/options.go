// Package catalogstore keeps a runbook catalog in a Git repository: it reads the
// catalog at a ref and commits and pushes document changes, sharing pushes between
// the writers of one process and retrying against writers in other processes.
package catalogstore

import (
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitauth"

	"github.com/go-git/go-git/v5/plumbing/transport"
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
	return gitauth.Endpoint(o.Repository, o.Token, o.SSHPrivateKey)
}

// jitter spreads retries of competing writers: full jitter under a ceiling that starts
// small, so that a writer who just lost can race the winner's next push on equal terms,
// and grows to 2s, so that a writer facing a long burst from another process outlasts
// it instead of giving up.
func jitter(attempt int) time.Duration {
	ceiling := min(10*time.Millisecond<<min(attempt-1, 8), 2*time.Second)
	return time.Duration(rand.Int64N(int64(ceiling)))
}
