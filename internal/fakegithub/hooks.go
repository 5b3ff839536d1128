package fakegithub

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Delivery is one webhook the server sent and the answer it got.
type Delivery struct {
	Event  string
	Status int
	Err    error
	// Body is the payload sent.
	Body []byte
}

type hook struct {
	url, secret string
	queue       chan delivery
}

type delivery struct {
	event string
	body  []byte
}

// Hook makes the server deliver webhooks to url, signed with secret, as GitHub
// does: X-GitHub-Event, X-GitHub-Delivery and X-Hub-Signature-256 (HMAC-SHA256 of
// the body), one at a time in the order the events happened, without waiting for
// them in the request that caused them. Events: pull_request_review (Review),
// check_run (CheckRun), status (POST statuses), pull_request (merge, Close).
func (s *Server) Hook(url, secret string) {
	h := &hook{url: url, secret: secret, queue: make(chan delivery, 1024)}
	s.mu.Lock()
	s.hook = h
	s.mu.Unlock()
	go func() {
		client := &http.Client{Timeout: 10 * time.Second}
		for {
			select {
			case d := <-h.queue:
				s.send(client, h, d)
			case <-s.done:
				return
			}
		}
	}()
}

// Payload is one webhook payload the server made.
type Payload struct {
	Event string
	Body  []byte
}

// Payloads lists every webhook payload made so far, in order.
func (s *Server) Payloads() []Payload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Payload(nil), s.payloads...)
}

// Unhook stops the deliveries of events from now on.
func (s *Server) Unhook() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = nil
}

// Deliveries lists the webhooks sent so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// deliver queues an event, with s.mu held: events queue in the order they happened.
func (s *Server) deliver(event string, payload map[string]any) {
	body, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	// Every payload is kept for CheckSpec, delivered or not.
	s.payloads = append(s.payloads, Payload{Event: event, Body: body})
	h := s.hook
	if h == nil {
		return
	}
	h.queue <- delivery{event: event, body: body}
}

func (s *Server) send(client *http.Client, h *hook, d delivery) {
	mac := hmac.New(sha256.New, []byte(h.secret))
	mac.Write(d.body)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, h.url, bytes.NewReader(d.body))
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/fake")
	req.Header.Set("X-GitHub-Event", d.event)
	req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("00000000-0000-0000-0000-%012d", id))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	got := Delivery{Event: d.event, Body: d.body}
	resp, err := client.Do(req)
	if err != nil {
		got.Err = err
	} else {
		got.Status = resp.StatusCode
		resp.Body.Close()
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, got)
	s.mu.Unlock()
}
