// Package gitauth turns a repository setting (a local path, a file://, https:// or
// ssh:// URL, an scp-like address) into what go-git connects with, and keeps the
// secrets it carries out of every message. Both Git clients use it: the catalog's
// (runbooks/catalogstore) and the infrastructure repository's (remediator/infrarepo).
package gitauth

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

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
