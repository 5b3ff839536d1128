package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// giteaEvents are the Gitea (and Forgejo) webhook events that can change what a
// reconcile pass decides, by X-Gitea-Event (a review is pull_request_approved,
// pull_request_rejected or pull_request_comment) or X-Gitea-Event-Type (the finer
// pull_request_review_*, pull_request_sync).
var giteaEvents = map[string]bool{
	"pull_request": true, "pull_request_approved": true, "pull_request_rejected": true, "pull_request_comment": true,
	"pull_request_sync": true, "pull_request_review_approved": true, "pull_request_review_rejected": true,
	"pull_request_review_comment": true, "pull_request_review_request": true, "status": true,
}

// errSignature is a delivery without a signature the secret makes.
var errSignature = errors.New("invalid or missing X-Gitea-Signature / X-Hub-Signature-256")

// gitea serves POST /v1/gitea: a delivery whose signature does not match the secret
// is refused (401) and does nothing; a relevant event asks for a reconcile pass of
// what it names. The payload decides nothing: the pass reads Gitea.
func (o Options) gitea() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.GiteaWebhookSecret == "" {
			http.Error(w, "Gitea webhooks are not configured (forge.webhook_secret_env)", http.StatusNotFound)
			return
		}
		payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, o.MaxBodyBytes))
		if err != nil {
			http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		event := giteaEvent(r.Header)
		if err := verifyGitea(r.Header, payload, o.GiteaWebhookSecret); err != nil {
			o.Logger.Warn("gitea webhook refused", "reason", "signature", "event", event)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if giteaEvents[event] || giteaEvents[r.Header.Get("X-Gitea-Event-Type")] || giteaEvents[r.Header.Get("X-Forgejo-Event-Type")] {
			if o.OnGiteaEvent != nil {
				o.OnGiteaEvent(event, giteaTarget(event, payload))
			}
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

// giteaEvent is the delivery's event: Gitea's header, Forgejo's, or the GitHub
// one both also send.
func giteaEvent(h http.Header) string {
	for _, k := range []string{"X-Gitea-Event", "X-Forgejo-Event", "X-GitHub-Event"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// verifyGitea checks the delivery's HMAC-SHA256 of the body under the secret:
// X-Gitea-Signature (or Forgejo's X-Forgejo-Signature), hex; else
// X-Hub-Signature-256, "sha256=" and hex. Every signature the delivery carries must
// match; one at least must be there.
func verifyGitea(h http.Header, payload []byte, secret string) error {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(payload)
	want := mac.Sum(nil)
	seen := false
	for _, k := range []string{"X-Gitea-Signature", "X-Forgejo-Signature", "X-Hub-Signature-256"} {
		v := h.Get(k)
		if v == "" {
			continue
		}
		if k == "X-Hub-Signature-256" {
			var ok bool
			if v, ok = strings.CutPrefix(v, "sha256="); !ok {
				return errSignature
			}
		}
		got, err := hex.DecodeString(v)
		if err != nil || !hmac.Equal(got, want) {
			return errSignature
		}
		seen = true
	}
	if !seen {
		return errSignature
	}
	return nil
}

// giteaPayload is what a delivery names: a pull request by number and head, or a
// commit (a status).
type giteaPayload struct {
	Number      int `json:"number"`
	PullRequest *struct {
		Number int `json:"number"`
		Head   *struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
	SHA string `json:"sha"`
}

// giteaTarget reads from a delivery's payload only where to look.
func giteaTarget(event string, payload []byte) forge.Target {
	var p giteaPayload
	if json.Unmarshal(payload, &p) != nil {
		return forge.Target{}
	}
	if event == "status" {
		return forge.Target{Commit: hexOnly(p.SHA)}
	}
	if p.PullRequest == nil || p.PullRequest.Number <= 0 {
		return forge.Target{}
	}
	t := forge.Target{Number: p.PullRequest.Number}
	if p.PullRequest.Head != nil {
		t.Commit = hexOnly(p.PullRequest.Head.SHA)
	}
	return t
}

// hexOnly keeps a commit hash, and nothing else a payload could put there.
func hexOnly(s string) string {
	s = strings.ToLower(s)
	if len(s) < 7 || len(s) > 64 || strings.Trim(s, "0123456789abcdef") != "" {
		return ""
	}
	return s
}
