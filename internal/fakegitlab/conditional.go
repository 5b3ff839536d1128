package fakegitlab

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// GitLab's REST API answers conditional requests only through the Rails middleware
// in front of it: Rack::ETag gives every 200 answer to a GET a weak ETag, a digest
// of its body, and Rack::ConditionalGet turns the answer into a 304 with no body when
// If-None-Match names that ETag. Both run after the endpoint: GitLab does the whole
// work either way. GitLab's own ETag caching, which answers a 304 before the work,
// covers only the web interface's polling routes (lib/gitlab/etag_caching), none of
// /api/v4. Its rate limits are Rack::Attack throttles that count the request before
// it reaches the API (lib/gitlab/rack_attack.rb), so a 304 counts as much as a 200:
// on GitLab a conditional request saves bytes, never budget.

// conditionalWriter keeps a GET answer until it is known whether it is a 304.
type conditionalWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (c *conditionalWriter) Header() http.Header         { return c.header }
func (c *conditionalWriter) Write(b []byte) (int, error) { return c.body.Write(b) }
func (c *conditionalWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}

// serveConditional runs h and answers as Rack::ETag and Rack::ConditionalGet would.
func serveConditional(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter)) (notModified bool) {
	c := &conditionalWriter{header: w.Header()}
	h(c)
	if c.code == 0 {
		c.code = http.StatusOK
	}
	if c.code == http.StatusOK {
		sum := sha256.Sum256(c.body.Bytes())
		etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "max-age=0, private, must-revalidate")
		if r.Header.Get("If-None-Match") == etag {
			w.Header().Del("Content-Type")
			w.Header().Del("Content-Length")
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	w.WriteHeader(c.code)
	_, _ = w.Write(c.body.Bytes())
	return false
}

// Requests is how many API requests the server answered: what GitLab's rate limit
// counts, 304s included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// NotModified is how many of them were answered 304 Not Modified.
func (s *Server) NotModified() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notModified
}
