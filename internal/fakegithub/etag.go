package fakegithub

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// notModifiedRoutes are the GET operations for which GitHub's OpenAPI description
// documents a 304 Not Modified; TestNotModifiedOnlyWhereDocumented keeps the list
// true to it. Every other GET carries an ETag too, as on GitHub, but is answered in
// full (and counted) whatever the client sends.
var notModifiedRoutes = map[string]bool{
	"/repos/{owner}/{repo}/pulls":               true,
	"/repos/{owner}/{repo}/pulls/{pull_number}": true,
	"/user": true,
}

// rateLimit is the primary rate limit per credentials: every answer but a 304
// costs one request, as on GitHub.
type rateLimit struct {
	used map[string]int // Authorization header digest -> requests counted this window
	// spent is what every credentials spent besides: other tools sharing a token.
	spent int
}

// SpendRateLimit spends n requests of every credentials' window, as other tools
// sharing the token would: the answers' X-RateLimit-Remaining drop by n.
func (s *Server) SpendRateLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.spent += n
}

// rateLimitPerHour is GitHub's primary limit for a token.
const rateLimitPerHour = 5000

// buffer holds a handler's answer until its ETag is known.
type buffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *buffer) Header() http.Header { return b.header }
func (b *buffer) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *buffer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// serveConditional runs the handler and answers as GitHub does: a successful GET
// carries a weak ETag over the body and the credentials (one token's ETag is
// worthless to another); where GitHub documents it, a matching If-None-Match gets a
// 304 without a body that does not count against the rate limit.
func (s *Server) serveConditional(w http.ResponseWriter, r *http.Request, method, route string, h http.HandlerFunc) {
	b := &buffer{header: w.Header()}
	h(b, r)
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if method == http.MethodGet && b.status == http.StatusOK {
		sum := sha256.Sum256([]byte(r.Header.Get("Authorization") + "\x00" + r.Header.Get("Accept") + "\x00" + b.body.String()))
		etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "private, max-age=60, s-maxage=60")
		w.Header().Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
		if notModifiedRoutes[route] && etagMatches(r.Header.Get("If-None-Match"), etag) {
			s.setRateLimit(w, r, false)
			// GitHub's description of a 304 names no header; the Link of a page is
			// not covered by its ETag (a page answers 304 when pages were added after
			// it), so a client must not be handed one here to rely on.
			w.Header().Del("Content-Type")
			w.Header().Del("Link")
			s.record(Exchange{Method: method, Route: route, Status: http.StatusNotModified, Header: w.Header().Clone()})
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	s.setRateLimit(w, r, true)
	// Recorded before it is written: a large answer reaches the client before the
	// handler returns, and a test counting requests right after must see it.
	s.record(Exchange{Method: method, Route: route, Status: b.status, Header: w.Header().Clone(), Body: b.body.Bytes()})
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// etagMatches compares If-None-Match with an ETag weakly, as RFC 9110 says for it.
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || strings.TrimPrefix(v, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// setRateLimit sets the X-RateLimit-* headers of the credentials' window, after
// counting this request when it costs one.
func (s *Server) setRateLimit(w http.ResponseWriter, r *http.Request, counted bool) {
	sum := sha256.Sum256([]byte(r.Header.Get("Authorization")))
	who := hex.EncodeToString(sum[:])
	s.mu.Lock()
	if s.limits.used == nil {
		s.limits.used = map[string]int{}
	}
	if counted {
		s.limits.used[who]++
	}
	used := s.limits.used[who] + s.limits.spent
	s.mu.Unlock()
	reset := s.now().Truncate(time.Hour).Add(time.Hour)
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(rateLimitPerHour))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(rateLimitPerHour-used, 0)))
	w.Header().Set("X-RateLimit-Used", strconv.Itoa(used))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	w.Header().Set("X-RateLimit-Resource", "core")
}

// Counted is how many REST requests GitHub's primary rate limit would have counted
// so far: every answer but the 304s.
func (s *Server) Counted() int {
	n := 0
	for _, e := range s.Exchanges() {
		if e.Status != http.StatusNotModified {
			n++
		}
	}
	return n
}

// NotModified is how many REST requests were answered 304 Not Modified.
func (s *Server) NotModified() int {
	n := 0
	for _, e := range s.Exchanges() {
		if e.Status == http.StatusNotModified {
			n++
		}
	}
	return n
}
