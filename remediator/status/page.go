package status

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pages are parsed on the first page served, not when the package initialises: every
// remediator command links this package, and most never serve a page.
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05Z")
		},
		"short": func(s string) string {
			if len(s) > 12 {
				return s[:12]
			}
			return s
		},
		"labels": runbooks.FormatLabels,
		"join":   strings.Join,
	}).ParseFS(templateFiles, "templates/*.html"))
})

// Page serves the status page (server-rendered HTML that needs no JavaScript,
// everything from alerts escaped by html/template) and the JSON behind it. It only
// reads; it shows no secret.
type Page struct {
	// Snapshot makes (or returns a recent) snapshot.
	Snapshot func(ctx context.Context) (*Snapshot, error)
	// Timeline tells one remediation.
	Timeline func(ctx context.Context, id string) (*Remediation, error)
	// BearerToken, when set, is required of every request (Authorization: Bearer,
	// or ?token= for a browser bookmark).
	BearerToken string
	// Refresh is how often the page reloads itself; 0 never.
	Refresh time.Duration
	Logger  *slog.Logger
}

// Register adds the page's routes to a mux.
func (p *Page) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", p.auth(p.overview))
	mux.Handle("GET /remediations/{id}", p.auth(p.remediation))
	mux.Handle("GET /runbooks/{name}", p.auth(p.runbook))
	mux.Handle("GET /api/v1/status", p.auth(p.statusJSON))
	mux.Handle("GET /api/v1/remediations/{id}", p.auth(p.remediationJSON))
}

func (p *Page) auth(next func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.BearerToken != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				got = r.URL.Query().Get("token")
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(p.BearerToken)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="remediator status"`)
				http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
				return
			}
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		next(w, r)
	})
}

// view is what every template gets.
type view struct {
	*Snapshot
	Refresh     int
	Token       string
	Remediation *Remediation
	Runbook     *Runbook
	Error       string
}

// Link is a path on this page, carrying the bearer token a bookmark came with.
func (v view) Link(path string) string {
	if v.Token == "" {
		return path
	}
	return path + "?token=" + url.QueryEscape(v.Token)
}

// With gives a list template the view's links.
func (v view) With(items []Item) listView { return listView{view: v, Items: items} }

// listView is a list of items with the page's links.
type listView struct {
	view
	Items []Item
}

func (p *Page) render(w http.ResponseWriter, r *http.Request, name string, v view) {
	if p.Refresh > 0 {
		v.Refresh = int(p.Refresh.Seconds())
	}
	if p.BearerToken != "" {
		v.Token = r.URL.Query().Get("token")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages().ExecuteTemplate(w, name, v); err != nil && p.Logger != nil {
		p.Logger.Error("status page", "page", name, "err", err)
	}
}

func (p *Page) snapshot(w http.ResponseWriter, r *http.Request) (*Snapshot, bool) {
	s, err := p.Snapshot(r.Context())
	if err != nil {
		if p.Logger != nil {
			p.Logger.Error("status snapshot", "err", err)
		}
		http.Error(w, "the status cannot be read now: "+err.Error(), http.StatusServiceUnavailable)
		return nil, false
	}
	return s, true
}

func (p *Page) overview(w http.ResponseWriter, r *http.Request) {
	if s, ok := p.snapshot(w, r); ok {
		p.render(w, r, "overview.html", view{Snapshot: s})
	}
}

func (p *Page) runbook(w http.ResponseWriter, r *http.Request) {
	s, ok := p.snapshot(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	for i := range s.Runbooks {
		if s.Runbooks[i].Name == name {
			p.render(w, r, "runbook.html", view{Snapshot: s, Runbook: &s.Runbooks[i]})
			return
		}
	}
	w.WriteHeader(http.StatusNotFound)
	p.render(w, r, "runbook.html", view{Snapshot: s, Error: "no runbook " + name + " in the catalog"})
}

func (p *Page) remediation(w http.ResponseWriter, r *http.Request) {
	rem, err := p.Timeline(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, ErrUnknown):
		w.WriteHeader(http.StatusNotFound)
		p.render(w, r, "remediation.html", view{Snapshot: &Snapshot{}, Error: err.Error()})
	case err != nil:
		http.Error(w, "the remediation cannot be read now: "+err.Error(), http.StatusServiceUnavailable)
	default:
		p.render(w, r, "remediation.html", view{Snapshot: &Snapshot{GeneratedAt: time.Now().UTC()}, Remediation: rem})
	}
}

func (p *Page) statusJSON(w http.ResponseWriter, r *http.Request) {
	if s, ok := p.snapshot(w, r); ok {
		writeJSON(w, http.StatusOK, s)
	}
}

func (p *Page) remediationJSON(w http.ResponseWriter, r *http.Request) {
	rem, err := p.Timeline(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, ErrUnknown):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusOK, rem)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
