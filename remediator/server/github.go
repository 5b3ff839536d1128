package server

import (
	"net/http"

	gh "github.com/google/go-github/v60/github"
)

// githubEvents are the GitHub webhook events that can change what a reconcile pass
// decides: a pull request moved, a review arrived, a check or status reported.
var githubEvents = map[string]bool{
	"pull_request": true, "pull_request_review": true, "check_run": true, "check_suite": true, "status": true,
}

// github serves POST /v1/github: a delivery whose X-Hub-Signature-256 does not match
// the secret is refused (401) and does nothing; a relevant event asks for a reconcile
// pass. The payload itself is not trusted for any decision: the pass reads GitHub.
func (o Options) github() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.GitHubWebhookSecret == "" {
			http.Error(w, "GitHub webhooks are not configured (forge.webhook_secret_env)", http.StatusNotFound)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, o.MaxBodyBytes)
		payload, err := gh.ValidatePayload(r, []byte(o.GitHubWebhookSecret))
		if err != nil {
			o.Logger.Warn("github webhook refused", "reason", "signature", "event", r.Header.Get("X-GitHub-Event"))
			http.Error(w, "invalid or missing X-Hub-Signature-256", http.StatusUnauthorized)
			return
		}
		event := gh.WebHookType(r)
		switch {
		case event == "ping":
			w.WriteHeader(http.StatusOK)
		case githubEvents[event]:
			if o.OnGitHubEvent != nil {
				o.OnGitHubEvent(event, githubTarget(event, payload))
			}
			w.WriteHeader(http.StatusAccepted)
		default:
			w.WriteHeader(http.StatusAccepted) // not one that changes a decision
		}
	})
}
