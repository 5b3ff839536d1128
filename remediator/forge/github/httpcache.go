package github

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// DefaultCacheBytes bounds the bodies the conditional-request cache keeps: a few
// hundred pull requests' lists, reviews and statuses fit many times over.
const DefaultCacheBytes = 32 << 20

// FromCacheHeader marks an answer the cache served after GitHub said 304 Not
// Modified: GitHub did not count it against the rate limit.
const FromCacheHeader = "X-Remediator-Cache"

// cacheTransport makes every GET conditional: it keeps the last answer of each URL
// with its ETag or Last-Modified, per credentials and media type (GitHub's answers
// vary by Authorization and Accept), sends If-None-Match / If-Modified-Since, and on
// 304 serves the kept body. It never answers without asking GitHub: a 304 is
// GitHub's word that nothing changed, so a review, a status or a permission that
// changed since is always seen. A 304 costs nothing of the primary rate limit.
type cacheTransport struct {
	base     http.RoundTripper
	maxBytes int

	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List // front: most recently used
	size    int
}

type cacheEntry struct {
	key           string
	etag, lastMod string
	status        int
	header        http.Header
	body          []byte
}

func newCacheTransport(base http.RoundTripper, maxBytes int) *cacheTransport {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	return &cacheTransport{base: base, maxBytes: maxBytes, entries: map[string]*list.Element{}, lru: list.New()}
}

// cacheKey names one answer: the URL, and a digest of what it varies by, so one
// token's answer is never served to another (nor kept in memory as the token).
func cacheKey(req *http.Request) string {
	h := sha256.New()
	for _, k := range []string{"Authorization", "Accept", "X-GitHub-Api-Version"} {
		h.Write([]byte(k + "\x00" + req.Header.Get(k) + "\x00"))
	}
	return req.URL.String() + " " + hex.EncodeToString(h.Sum(nil))
}

func (t *cacheTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.Header.Get("If-None-Match") != "" || req.Header.Get("If-Modified-Since") != "" {
		return t.base.RoundTrip(req)
	}
	key := cacheKey(req)
	old := t.get(key)
	send := req
	if old != nil {
		send = req.Clone(req.Context())
		if old.etag != "" {
			send.Header.Set("If-None-Match", old.etag)
		} else {
			send.Header.Set("If-Modified-Since", old.lastMod)
		}
	}
	resp, err := t.base.RoundTrip(send)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotModified && old != nil {
		_ = resp.Body.Close()
		return old.response(req, resp.Header), nil
	}
	if resp.StatusCode != http.StatusOK || strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		return resp, nil
	}
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" && lastMod == "" {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	t.put(&cacheEntry{key: key, etag: etag, lastMod: lastMod, status: resp.StatusCode, header: resp.Header.Clone(), body: body})
	return resp, nil
}

// response is the kept answer, with the headers of the 304 that confirmed it (the
// current rate limit among them).
func (e *cacheEntry) response(req *http.Request, fresh http.Header) *http.Response {
	h := e.header.Clone()
	for k, vs := range fresh {
		h[k] = vs
	}
	h.Set(FromCacheHeader, "revalidated")
	nextAfterFullPage(req, h, e.body)
	return &http.Response{
		Status: "200 OK", StatusCode: e.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(e.body)), ContentLength: int64(len(e.body)), Request: req,
	}
}

func (t *cacheTransport) get(key string) *cacheEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.entries[key]
	if !ok {
		return nil
	}
	t.lru.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

// put keeps an answer, dropping the least recently used ones beyond the bound; an
// answer larger than the whole bound is not kept.
func (t *cacheTransport) put(e *cacheEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.entries[e.key]; ok {
		t.size -= len(el.Value.(*cacheEntry).body)
		t.lru.Remove(el)
		delete(t.entries, e.key)
	}
	if len(e.body) > t.maxBytes {
		return
	}
	t.entries[e.key] = t.lru.PushFront(e)
	t.size += len(e.body)
	for t.size > t.maxBytes {
		last := t.lru.Back()
		old := last.Value.(*cacheEntry)
		t.lru.Remove(last)
		delete(t.entries, old.key)
		t.size -= len(old.body)
	}
}

// Len is how many answers the cache keeps, and their bodies' size.
func (t *cacheTransport) Len() (entries, bytes int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries), t.size
}

// nextAfterFullPage gives a kept list page that is full and names no next page a
// link to the next one. GitHub's weak ETag covers a page's body, not its Link
// header: a full last page still answers 304 once items were added after it, and
// the kept Link (a 304 need not carry one) says nothing follows. The caller then
// reads the next page, conditionally (an empty page costs nothing once kept), and
// sees what was added: a 304 never hides the end of a list. Only pages asked with
// per_page (the forge's own paginated reads) are looked at.
func nextAfterFullPage(req *http.Request, h http.Header, body []byte) {
	q := req.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per <= 0 || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
		return
	}
	for _, l := range h.Values("Link") {
		if strings.Contains(l, `rel="next"`) {
			return
		}
	}
	var items []json.RawMessage
	if json.Unmarshal(body, &items) != nil || len(items) < per {
		return
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	next := *req.URL
	q.Set("page", strconv.Itoa(page+1))
	next.RawQuery = q.Encode()
	// One value, as GitHub sends it: clients read the first Link header only.
	links := append(h.Values("Link"), "<"+next.String()+`>; rel="next"`)
	h.Set("Link", strings.Join(links, ", "))
}
