package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// gitlabEvents are the GitLab webhook events (X-Gitlab-Event) that can change what
// a reconcile pass decides: a merge request opened, pushed to, retargeted, closed,
// approved or unapproved (GitLab sends approvals as merge request events), a note,
// and a pipeline.
var gitlabEvents = map[string]bool{"Merge Request Hook": true, "Note Hook": true, "Pipeline Hook": true}

// gitlab serves POST /v1/gitlab: a delivery whose X-Gitlab-Token is not the secret
// is refused (401) and does nothing; a relevant event asks for a reconcile pass of
// what it names. The payload decides nothing: the pass reads GitLab.
func (o Options) gitlab() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.GitLabWebhookSecret == "" {
			http.Error(w, "GitLab webhooks are not configured (forge.webhook_secret_env)", http.StatusNotFound)
			return
		}
		event := r.Header.Get("X-Gitlab-Event")
		if !sameSecret(r.Header.Get("X-Gitlab-Token"), o.GitLabWebhookSecret) {
			o.Logger.Warn("gitlab webhook refused", "reason", "token", "event", event)
			http.Error(w, "invalid or missing X-Gitlab-Token", http.StatusUnauthorized)
			return
		}
		payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, o.MaxBodyBytes))
		if err != nil {
			http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		if gitlabEvents[event] && o.OnGitLabEvent != nil {
			o.OnGitLabEvent(event, gitlabTarget(event, payload))
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

// sameSecret compares a token with the secret in constant time: both are hashed
// first, so that neither their contents nor their lengths show in the timing.
func sameSecret(got, secret string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(secret))
	return got != "" && subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// gitlabPayload is what a delivery names: a merge request by iid and last commit
// (in object_attributes for a merge request event, in merge_request for a note or
// a merge request's pipeline), or a commit (a pipeline's sha).
type gitlabPayload struct {
	Attributes *struct {
		IID        int    `json:"iid"`
		SHA        string `json:"sha"`
		LastCommit *struct {
			ID string `json:"id"`
		} `json:"last_commit"`
	} `json:"object_attributes"`
	MergeRequest *struct {
		IID        int `json:"iid"`
		LastCommit *struct {
			ID string `json:"id"`
		} `json:"last_commit"`
	} `json:"merge_request"`
}

// gitlabTarget reads from a delivery's payload only where to look.
func gitlabTarget(event string, payload []byte) forge.Target {
	var p gitlabPayload
	if json.Unmarshal(payload, &p) != nil {
		return forge.Target{}
	}
	var t forge.Target
	switch event {
	case "Merge Request Hook":
		if p.Attributes != nil {
			t.Number = p.Attributes.IID
			if p.Attributes.LastCommit != nil {
				t.Commit = hexOnly(p.Attributes.LastCommit.ID)
			}
		}
	case "Note Hook":
		if p.MergeRequest != nil {
			t.Number = p.MergeRequest.IID
			if p.MergeRequest.LastCommit != nil {
				t.Commit = hexOnly(p.MergeRequest.LastCommit.ID)
			}
		}
	case "Pipeline Hook":
		if p.Attributes != nil {
			t.Commit = hexOnly(p.Attributes.SHA)
		}
		if p.MergeRequest != nil {
			t.Number = p.MergeRequest.IID
		}
	}
	if t.Number < 0 {
		t.Number = 0
	}
	return t
}
