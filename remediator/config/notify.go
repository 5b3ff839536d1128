package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Notify says whom to tell what the remediator did. Webhook URLs are secrets (whoever
// has one can post to the channel): the file names the environment variables that
// hold them.
type Notify struct {
	// StatusURL is the address people reach the status page at: the link of a
	// remediation that has no pull request (the local forge).
	StatusURL string `yaml:"status_url"`
	// Receivers are where the events go, each with the events it wants.
	Receivers []NotifyReceiver `yaml:"receivers"`
}

// NotifyReceiver is one destination.
type NotifyReceiver struct {
	// Name names it in logs, metrics and its queue directory.
	Name string `yaml:"name"`
	// Type is the kind of receiver: slack (incoming webhook, Block Kit), teams (incoming webhook or
	// workflow, Adaptive Card) or webhook (JSON signed with HMAC-SHA256).
	Type string `yaml:"type"`
	// URLEnv names the variable holding the webhook URL.
	URLEnv string `yaml:"url_env"`
	// SecretEnv names the variable holding the webhook type's signing secret.
	SecretEnv string `yaml:"secret_env"`
	// Events are the kinds of event to tell; empty is all.
	Events []string `yaml:"events"`
}

// Receiver types.
const (
	NotifySlack   = "slack"
	NotifyTeams   = "teams"
	NotifyWebhook = "webhook"
)

// NotifyEvents are the event kinds a receiver can ask for.
var NotifyEvents = []string{"proposal_waiting", "merged", "verified", "failed", "runbook_suspended", "anomaly_dead_lettered"}

var receiverNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (c *Config) validateNotify(add func(field, format string, args ...any)) {
	if c.Notify.StatusURL != "" {
		checkURL(add, "notify.status_url", c.Notify.StatusURL)
	}
	seen := map[string]bool{}
	for i, r := range c.Notify.Receivers {
		field := fmt.Sprintf("notify.receivers[%d]", i)
		switch {
		case !receiverNameRE.MatchString(r.Name):
			add(field+".name", "invalid name %q: want lower-case letters, digits, - and _ (it names a directory)", r.Name)
		case seen[r.Name]:
			add(field+".name", "%q names two receivers", r.Name)
		}
		seen[r.Name] = true
		switch r.Type {
		case NotifySlack, NotifyTeams:
			if r.SecretEnv != "" {
				add(field+".secret_env", "only the webhook type signs its requests; %s webhooks carry their secret in the URL", r.Type)
			}
		case NotifyWebhook:
			if r.SecretEnv == "" {
				add(field+".secret_env", "required for the webhook type: the receiver checks the signature")
			}
		default:
			add(field+".type", "unknown type %q: want slack, teams or webhook", r.Type)
		}
		if r.URLEnv == "" {
			add(field+".url_env", "required: the environment variable holding the webhook URL")
		}
		for sub, v := range map[string]string{".url_env": r.URLEnv, ".secret_env": r.SecretEnv} {
			if v != "" && !envNameRE.MatchString(v) {
				add(field+sub, "%q is not an environment variable name: name the variable that holds the secret, never the secret", v)
			}
		}
		for j, e := range r.Events {
			if !slices.Contains(NotifyEvents, e) {
				add(fmt.Sprintf("%s.events[%d]", field, j), "unknown event %q: want one of %s", e, strings.Join(NotifyEvents, ", "))
			}
		}
	}
}

// NotifyTarget is a receiver with its secrets read from the environment.
type NotifyTarget struct {
	NotifyReceiver
	URL    string
	Secret string
}

// NotifyTargets reads the receivers' URLs and secrets from the environment. An
// unset variable or a URL that is not one is an error naming the setting and the
// variable, never the value.
func (c *Config) NotifyTargets() ([]NotifyTarget, error) {
	var out []NotifyTarget
	var errs []string
	for i, r := range c.Notify.Receivers {
		field := fmt.Sprintf("notify.receivers[%d]", i)
		t := NotifyTarget{NotifyReceiver: r, URL: strings.TrimSpace(os.Getenv(r.URLEnv)), Secret: os.Getenv(r.SecretEnv)}
		if t.URL == "" {
			errs = append(errs, fmt.Sprintf("%s.url_env names %s, which is unset or empty", field, r.URLEnv))
		} else if u, err := url.Parse(t.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Sprintf("%s.url_env: %s does not hold an http(s) URL", field, r.URLEnv))
		}
		if r.SecretEnv != "" && strings.TrimSpace(t.Secret) == "" {
			errs = append(errs, fmt.Sprintf("%s.secret_env names %s, which is unset or empty", field, r.SecretEnv))
		}
		out = append(out, t)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("notify: %s", strings.Join(errs, "; "))
	}
	return out, nil
}
