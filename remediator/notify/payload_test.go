package notify

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atc0005/go-teams-notify/v2/adaptivecard"
	"github.com/slack-go/slack"
)

// events are one event of each kind, with alert text that tries markup.
func events() []Event {
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	times := Times{AnomalyStart: start, Proposed: start.Add(90 * time.Second), Merged: start.Add(12 * time.Minute), Verified: start.Add(40 * time.Minute)}
	hostile := "api <!channel> *bold* [click](http://evil.example) <http://evil.example|here> & more"
	base := Event{At: start.Add(time.Hour), RemediationID: "scale-out-api-0123456789", Runbook: "scale-out-api", Policy: "production",
		Risk: "medium", Target: hostile, URL: "https://forge.example/acme/infra/pull/7", Times: times}
	var out []Event
	for _, k := range Kinds {
		e := base
		e.Kind, e.ID = k, key(k, "scale-out-api-0123456789", string(k))
		switch k {
		case ProposalWaiting:
			e.Approval = &Approval{Required: 2, Reviewers: []string{"alice", "acme/sre"}}
			e.URL = "http://127.0.0.1:8080/remediations/scale-out-api-0123456789"
		case Merged:
			e.Approvers, e.Merge = []string{"alice", "bob"}, strings.Repeat("ab", 20)
		case Failed:
			e.Detail, e.Rollback = "matching alert(s) still active: "+hostile, "remediation/scale-out-api-0123456789-rollback"
		case Suspended:
			e.Detail = "circuit breaker of policy production: 2 failed remediation(s)"
		case DeadLettered:
			e.RemediationID, e.URL, e.Detail = "", "", strings.Repeat("x", 5000)
		}
		out = append(out, e)
	}
	return out
}

// The Slack payload decodes into slack-go's Block Kit types and encodes back to the
// same JSON: no field Slack's types do not know, none of a wrong type. Alert text is
// only in plain_text objects (never parsed for mentions or links), and the mrkdwn
// fallback text is escaped.
func TestSlackPayloadIsBlockKit(t *testing.T) {
	for _, e := range events() {
		t.Run(string(e.Kind), func(t *testing.T) {
			data, err := SlackMessage(&e)
			if err != nil {
				t.Fatal(err)
			}
			var msg slack.WebhookMessage
			if err := strictDecode(data, &msg); err != nil {
				t.Fatalf("not a webhook message: %v\n%s", err, data)
			}
			again, err := json.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, data, again) {
				t.Fatalf("Block Kit types do not round-trip the payload:\n%s\n%s", data, again)
			}
			if msg.Blocks == nil || len(msg.Blocks.BlockSet) < 2 {
				t.Fatalf("blocks: %s", data)
			}
			head, ok := msg.Blocks.BlockSet[0].(*slack.HeaderBlock)
			if !ok || head.Text.Type != slack.PlainTextType || head.Text.Text != clip(e.Title(), slackHeaderMax) {
				t.Fatalf("first block is not the header: %s", data)
			}
			for _, b := range msg.Blocks.BlockSet {
				checkSlackBlock(t, b, e)
			}
			if strings.Contains(msg.Text, "<") {
				t.Fatalf("fallback text not escaped: %q", msg.Text)
			}
			if e.Kind == ProposalWaiting && !bytes.Contains(data, []byte("Who must approve: 2 approvals from people with write access, including alice, acme/sre")) {
				t.Fatalf("who must approve is missing: %s", data)
			}
		})
	}
}

func checkSlackBlock(t *testing.T, b slack.Block, e Event) {
	t.Helper()
	text := func(o *slack.TextBlockObject) {
		if o == nil {
			return
		}
		if err := o.Validate(); err != nil {
			t.Errorf("text object: %v", err)
		}
		if o.Type != slack.PlainTextType {
			t.Errorf("%s text object carries event text: %q", o.Type, o.Text)
		}
	}
	switch b := b.(type) {
	case *slack.HeaderBlock:
		text(b.Text)
	case *slack.SectionBlock:
		text(b.Text)
		if len(b.Fields) > 10 {
			t.Errorf("%d fields, Slack takes 10", len(b.Fields))
		}
		for _, f := range b.Fields {
			text(f)
			if len([]rune(f.Text)) > slackFieldMax {
				t.Errorf("field of %d characters", len([]rune(f.Text)))
			}
		}
		if b.Text != nil && len([]rune(b.Text.Text)) > slackTextMax {
			t.Errorf("section text of %d characters", len([]rune(b.Text.Text)))
		}
	case *slack.ActionBlock:
		btn, ok := b.Elements.ElementSet[0].(*slack.ButtonBlockElement)
		if !ok || btn.URL != e.URL {
			t.Errorf("the action is not a button to %s", e.URL)
		}
	case *slack.ContextBlock:
		if !strings.Contains(b.ContextElements.Elements[0].(*slack.TextBlockObject).Text, e.ID) {
			t.Errorf("context does not name the event")
		}
	default:
		t.Errorf("unexpected block %T", b)
	}
}

// The Teams payload is the webhook's message envelope around one Adaptive Card:
// decoded into go-teams-notify's adaptivecard types it validates, and it has what the
// Adaptive Card schema (adaptivecards.io/schemas/adaptive-card.json) requires, checked
// here by hand: no library of the schema itself is served to this project.
func TestTeamsPayloadIsAdaptiveCard(t *testing.T) {
	for _, e := range events() {
		t.Run(string(e.Kind), func(t *testing.T) {
			data, err := TeamsMessage(&e)
			if err != nil {
				t.Fatal(err)
			}
			var msg adaptivecard.Message
			if err := strictDecode(data, &msg); err != nil {
				t.Fatalf("not a Teams message: %v\n%s", err, data)
			}
			if err := msg.Validate(); err != nil {
				t.Fatalf("card does not validate: %v\n%s", err, data)
			}
			checkCardSchema(t, data, e)
		})
	}
}

func checkCardSchema(t *testing.T, data []byte, e Event) {
	t.Helper()
	var env struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string         `json:"contentType"`
			Content     map[string]any `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	if env.Type != "message" || len(env.Attachments) != 1 || env.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("not the Teams envelope: %s", data)
	}
	card := env.Attachments[0].Content
	if card["type"] != "AdaptiveCard" || card["version"] == "" || card["$schema"] != "http://adaptivecards.io/schemas/adaptive-card.json" {
		t.Fatalf("card header: %v", card)
	}
	body, _ := card["body"].([]any)
	if len(body) == 0 {
		t.Fatalf("empty body: %s", data)
	}
	for _, el := range body {
		el := el.(map[string]any)
		switch el["type"] {
		case "TextBlock":
			if s, _ := el["text"].(string); s == "" {
				t.Errorf("TextBlock without text (required): %v", el)
			}
		case "FactSet":
			for _, f := range el["facts"].([]any) {
				f := f.(map[string]any)
				if f["title"] == "" || f["value"] == "" {
					t.Errorf("Fact without title or value (required): %v", f)
				}
				if v := f["value"].(string); strings.Contains(v, "[click](") {
					t.Errorf("markdown link from alert text not escaped: %q", v)
				}
			}
		default:
			t.Errorf("unexpected element %v", el["type"])
		}
	}
	actions, _ := card["actions"].([]any)
	if (e.URL != "") != (len(actions) == 1) {
		t.Fatalf("actions %v for URL %q", actions, e.URL)
	}
	for _, a := range actions {
		a := a.(map[string]any)
		if a["type"] != "Action.OpenUrl" || a["url"] != e.URL {
			t.Errorf("action: %v", a)
		}
	}
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

func TestElapsedSkipsMilestonesBeforeTheStart(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got := Times{AnomalyStart: start, Proposed: start.Add(-time.Minute), Merged: start.Add(75 * time.Minute)}.Elapsed()
	if got != "merged 1h15m0s after the anomaly started" {
		t.Fatalf("%q", got)
	}
	if (Times{Proposed: start}).Elapsed() != "" {
		t.Fatal("no start, no figure")
	}
}
