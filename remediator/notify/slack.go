package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Slack posts to a Slack incoming webhook a Block Kit message: the heading, the
// facts (runbook, risk, target, who must approve), the detail, and a button to the
// proposal. Alert text is only ever plain_text, which Slack never parses for links
// or mentions (an alert saying <!channel> pings nobody).
type Slack struct {
	URL    string
	Client *http.Client
}

// Slack's limits (Block Kit reference): a header's text 150 characters, a
// section's text 3,000, a field 2,000, 10 fields.
const (
	slackHeaderMax = 150
	slackTextMax   = 3000
	slackFieldMax  = 2000
)

// Notify posts the message.
func (s *Slack) Notify(ctx context.Context, e *Event) error {
	body, err := SlackMessage(e)
	if err != nil {
		return err
	}
	return post(ctx, s.Client, s.URL, body, nil)
}

// SlackMessage renders an event as an incoming webhook's Block Kit payload.
func SlackMessage(e *Event) ([]byte, error) {
	plain := func(s string, limit int) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, clip(s, limit), false, false)
	}
	blocks := []slack.Block{slack.NewHeaderBlock(plain(e.Title(), slackHeaderMax))}
	var fields []*slack.TextBlockObject
	for _, f := range facts(e) {
		fields = append(fields, plain(f[0]+": "+f[1], slackFieldMax))
	}
	if len(fields) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, fields[:min(len(fields), 10)], nil))
	}
	if e.Detail != "" {
		blocks = append(blocks, slack.NewSectionBlock(plain(e.Detail, slackTextMax), nil, nil))
	}
	if e.URL != "" {
		button := slack.NewButtonBlockElement("open", e.RemediationID, plain(linkText(e), 75))
		button.URL = e.URL
		blocks = append(blocks, slack.NewActionBlock("links", button))
	}
	blocks = append(blocks, slack.NewContextBlock("event", plain(string(e.Kind)+" · "+e.ID+" · "+e.At.UTC().Format("2006-01-02 15:04:05 MST"), slackTextMax)))
	msg := slack.WebhookMessage{
		// The fallback text of notifications is mrkdwn: escaped as Slack asks.
		Text:   slackEscape(e.Title()),
		Blocks: &slack.Blocks{BlockSet: blocks},
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("render slack message: %w", err)
	}
	return data, nil
}

func linkText(e *Event) string {
	if strings.Contains(e.URL, "/pull/") {
		return "Open the pull request"
	}
	return "Open the remediation"
}

// slackEscape escapes the three characters Slack's mrkdwn gives a meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// clip shortens s to at most n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// facts are an event's label/value pairs, in the order a reader wants them.
func facts(e *Event) [][2]string {
	var out [][2]string
	add := func(k, v string) {
		if v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	add("Remediation", e.RemediationID)
	add("Runbook", e.Runbook)
	add("Risk", e.Risk)
	add("Target", e.Target)
	add("Policy", e.Policy)
	add("Who must approve", e.Approval.Who())
	add("Approved by", strings.Join(e.Approvers, ", "))
	if e.Merge != "" {
		add("Merge", e.Merge[:min(len(e.Merge), 12)])
	}
	add("Rollback", e.Rollback)
	if d := e.Times.Elapsed(); d != "" {
		add("Time to remediate", d)
	}
	return out
}
