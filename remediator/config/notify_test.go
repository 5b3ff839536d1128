package config

import (
	"strings"
	"testing"
)

const notifyOK = `notify:
  status_url: https://remediator.example.com
  receivers:
    - name: sre-slack
      type: slack
      url_env: SLACK_WEBHOOK_URL
      events: [proposal_waiting, failed]
    - name: teams
      type: teams
      url_env: TEAMS_WEBHOOK_URL
    - name: pager
      type: webhook
      url_env: HOOK_URL
      secret_env: HOOK_SECRET
`

func TestNotifyConfig(t *testing.T) {
	c, err := Load(write(t, valid+notifyOK))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Notify.Receivers) != 3 || c.Notify.Receivers[0].Events[1] != "failed" {
		t.Fatalf("%+v", c.Notify)
	}
	t.Setenv("SLACK_WEBHOOK_URL", "https://hooks.example.com/services/T0/B0/s3cr3t")
	t.Setenv("TEAMS_WEBHOOK_URL", "not a url s3cr3t")
	t.Setenv("HOOK_URL", "https://hooks.example.com/x")
	t.Setenv("HOOK_SECRET", "")
	_, err = c.NotifyTargets()
	if err == nil || !strings.Contains(err.Error(), "notify.receivers[1].url_env: TEAMS_WEBHOOK_URL does not hold an http(s) URL") ||
		!strings.Contains(err.Error(), "notify.receivers[2].secret_env names HOOK_SECRET, which is unset or empty") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("the error shows a secret: %v", err)
	}
	t.Setenv("TEAMS_WEBHOOK_URL", "https://example.webhook.office.com/webhookb2/x")
	t.Setenv("HOOK_SECRET", "k")
	got, err := c.NotifyTargets()
	if err != nil || got[0].URL != "https://hooks.example.com/services/T0/B0/s3cr3t" || got[2].Secret != "k" {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestNotifyConfigErrors(t *testing.T) {
	cases := []struct{ name, edit, want string }{
		{"type", "type: slack", `notify.receivers[0].type: unknown type "email"`},
		{"event", "events: [proposal_waiting, failed]", `notify.receivers[0].events[1]: unknown event "merge"`},
		{"url env is a url", "url_env: SLACK_WEBHOOK_URL", `notify.receivers[0].url_env: "https://hooks.example.com/x" is not an environment variable name`},
		{"webhook unsigned", "secret_env: HOOK_SECRET", "notify.receivers[2].secret_env: required for the webhook type"},
		{"slack signed", "url_env: TEAMS_WEBHOOK_URL", "notify.receivers[1].secret_env: only the webhook type signs"},
		{"name", "name: teams", `notify.receivers[1].name: invalid name "Teams Channel"`},
		{"duplicate", "name: pager", `notify.receivers[2].name: "sre-slack" names two receivers`},
		{"status url", "status_url: https://remediator.example.com", "notify.status_url: invalid URL"},
	}
	repl := map[string]string{
		"type":             "type: email",
		"event":            "events: [proposal_waiting, merge]",
		"url env is a url": "url_env: https://hooks.example.com/x",
		"webhook unsigned": "secret_env: \"\"",
		"slack signed":     "url_env: TEAMS_WEBHOOK_URL\n      secret_env: X",
		"name":             "name: Teams Channel",
		"duplicate":        "name: sre-slack",
		"status url":       "status_url: remediator.example.com",
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, valid+strings.Replace(notifyOK, tc.edit, repl[tc.name], 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
