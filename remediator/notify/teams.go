package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/atc0005/go-teams-notify/v2/adaptivecard"
)

// Teams posts to a Microsoft Teams incoming webhook (or a Power Automate
// "post to a channel when a webhook request is received" flow) an Adaptive Card in
// the message envelope Teams expects: {"type":"message","attachments":[{"contentType":
// "application/vnd.microsoft.card.adaptive","content":{...}}]}. The card is built and
// validated with github.com/atc0005/go-teams-notify/v2/adaptivecard.
type Teams struct {
	URL    string
	Client *http.Client
}

// Notify posts the card.
func (t *Teams) Notify(ctx context.Context, e *Event) error {
	body, err := TeamsMessage(e)
	if err != nil {
		return err
	}
	return post(ctx, t.Client, t.URL, body, nil)
}

// TeamsMessage renders an event as the Teams webhook's JSON.
func TeamsMessage(e *Event) ([]byte, error) {
	card := adaptivecard.NewCard()
	if err := card.AddElement(false, adaptivecard.NewTitleTextBlock(mdEscape(e.Title()), true)); err != nil {
		return nil, fmt.Errorf("render teams card: %w", err)
	}
	if fs := facts(e); len(fs) > 0 {
		set := adaptivecard.NewFactSet()
		for _, f := range fs {
			if err := set.AddFact(adaptivecard.Fact{Title: f[0], Value: mdEscape(f[1])}); err != nil {
				return nil, fmt.Errorf("render teams card: %w", err)
			}
		}
		if err := card.AddFactSet(false, set); err != nil {
			return nil, fmt.Errorf("render teams card: %w", err)
		}
	}
	if e.Detail != "" {
		if err := card.AddElement(false, adaptivecard.NewTextBlock(mdEscape(clip(e.Detail, slackTextMax)), true)); err != nil {
			return nil, fmt.Errorf("render teams card: %w", err)
		}
	}
	if e.URL != "" {
		open, err := adaptivecard.NewActionOpenURL(e.URL, linkText(e))
		if err != nil {
			return nil, fmt.Errorf("render teams card: %w", err)
		}
		if err := card.AddAction(false, open); err != nil {
			return nil, fmt.Errorf("render teams card: %w", err)
		}
	}
	foot := adaptivecard.NewTextBlock(mdEscape(string(e.Kind)+" · "+e.ID+" · "+e.At.UTC().Format("2006-01-02 15:04:05 MST")), true)
	foot.IsSubtle = true
	if err := card.AddElement(false, foot); err != nil {
		return nil, fmt.Errorf("render teams card: %w", err)
	}
	msg, err := adaptivecard.NewMessageFromCard(card)
	if err != nil {
		return nil, fmt.Errorf("render teams card: %w", err)
	}
	if err := msg.Validate(); err != nil {
		return nil, fmt.Errorf("render teams card: %w", err)
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("render teams card: %w", err)
	}
	return data, nil
}

// mdEscape escapes what Adaptive Cards' markdown subset gives a meaning to (emphasis,
// links, lists, code), so alert text shows as written and links nowhere.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\*_[]()~`#>+-!<", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
