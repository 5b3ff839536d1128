package fakegithub

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

// OctokitDir is where `make tools` installs @octokit/openapi and @octokit/fixtures,
// relative to the module root.
const OctokitDir = ".tools/octokit/node_modules/@octokit"

// Octokit returns the installed @octokit directory, failing the test when it is
// missing: these checks are the point of the fake, so they never skip.
func Octokit(t testing.TB) string {
	t.Helper()
	dir := testenv.ModuleRoot(t)
	oct := filepath.Join(dir, OctokitDir)
	if _, err := os.Stat(filepath.Join(oct, "openapi", "generated", "api.github.com.json")); err != nil {
		t.Fatalf("GitHub's OpenAPI description is not installed (%v): run `make tools`", err)
	}
	return oct
}

var (
	specOnce sync.Once
	specDoc  *openapi3.T
	specErr  error
)

// CheckSpec validates every recorded answer of the server whose status GitHub's
// OpenAPI description documents for that operation against the documented schema,
// and fails the test on each mismatch. An answer with a status the operation does
// not document is a failure too, unless a test injected it.
func (s *Server) CheckSpec(t testing.TB) {
	t.Helper()
	oct := Octokit(t)
	specOnce.Do(func() {
		specDoc, specErr = loadSpec(filepath.Join(oct, "openapi", "generated", "api.github.com.json"), s.routeSet())
	})
	if specErr != nil {
		t.Fatalf("load GitHub's OpenAPI description: %v", specErr)
	}
	for _, p := range s.Payloads() {
		if err := checkPayload(specDoc, p.Event, p.Body); err != nil {
			t.Errorf("webhook %s: %v", p.Event, err)
		}
	}
	for _, e := range s.Exchanges() {
		err := checkExchange(specDoc, e)
		if errors.Is(err, errUndocumented) && e.Injected {
			continue
		}
		if err != nil {
			t.Errorf("%s %s -> %d: %v", e.Method, e.Route, e.Status, err)
		}
	}
}

var errUndocumented = errors.New("status not documented for this operation")

func checkExchange(doc *openapi3.T, e Exchange) error {
	item := doc.Paths.Value(e.Route)
	if item == nil {
		return fmt.Errorf("route not in GitHub's API")
	}
	op := item.GetOperation(e.Method)
	if op == nil {
		return fmt.Errorf("method not in GitHub's API for this route")
	}
	var media *openapi3.MediaType
	if ref := op.Responses.Status(e.Status); ref != nil && ref.Value != nil {
		media = ref.Value.Content.Get("application/json")
	} else if e.Status == 401 || e.Status == 404 && e.Header.Get(deniedHeader) != "" {
		// Any operation answers bad credentials with a basic error, and an account
		// without the role it needs with 404 (GitHub hides what it may not change); the
		// description lists those only where they are special.
		media = &openapi3.MediaType{Schema: doc.Components.Schemas["basic-error"]}
	} else {
		return errUndocumented
	}
	if (media == nil || media.Schema == nil) && e.Status >= 400 {
		// GitHub answers every error with a basic error, also where the description
		// documents no body (a 404 "if user has no team membership", the 422 of a
		// review request from a non-collaborator).
		media = &openapi3.MediaType{Schema: doc.Components.Schemas["basic-error"]}
	}
	if media == nil || media.Schema == nil {
		if len(strings.TrimSpace(string(e.Body))) == 0 {
			return nil
		}
		return fmt.Errorf("GitHub documents no JSON body, got %q", e.Body)
	}
	var v any
	if err := json.Unmarshal(e.Body, &v); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if err := media.Schema.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		msg := err.Error()
		if len(msg) > 2000 {
			msg = msg[:2000] + "..."
		}
		return fmt.Errorf("does not match GitHub's schema: %s", msg)
	}
	return nil
}

func (s *Server) routeSet() []string {
	return []string{
		"/repos/{owner}/{repo}/pulls", "/repos/{owner}/{repo}/pulls/{pull_number}",
		"/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers", "/repos/{owner}/{repo}/issues/{issue_number}/labels",
		"/repos/{owner}/{repo}/issues/{issue_number}/comments", "/repos/{owner}/{repo}/issues/comments/{comment_id}",
		"/app/installations/{installation_id}/access_tokens", "/repos/{owner}/{repo}/statuses/{sha}",
		"/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
		"/repos/{owner}/{repo}/commits/{ref}/status", "/repos/{owner}/{repo}/commits/{ref}/statuses", "/repos/{owner}/{repo}/commits/{ref}/check-runs",
		"/repos/{owner}/{repo}/pulls/{pull_number}/commits", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals",
		"/user", "/repos/{owner}/{repo}/collaborators/{username}/permission", "/repos/{owner}/{repo}/issues/{issue_number}/timeline",
		"/orgs/{org}/teams/{team_slug}/memberships/{username}", "/app",
	}
}

// webhookKeys are the x-webhooks entries of the events the fake delivers.
var webhookKeys = []string{
	"pull-request-review-submitted", "pull-request-review-dismissed", "pull-request-synchronize", "pull-request-closed",
	"check-run-created", "check-run-completed", "status",
}

// webhookSchemaRef is the payload schema of one x-webhooks entry.
func webhookSchemaRef(entry any) string {
	post, _ := entry.(map[string]any)["post"].(map[string]any)
	body, _ := post["requestBody"].(map[string]any)
	content, _ := body["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	schema, _ := media["schema"].(map[string]any)
	ref, _ := schema["$ref"].(string)
	return ref
}

// checkPayload validates one delivered payload against GitHub's webhook schema for
// its event and action.
func checkPayload(doc *openapi3.T, event string, body []byte) error {
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("payload is not JSON: %w", err)
	}
	key := strings.ReplaceAll(event, "_", "-")
	if action, ok := v["action"].(string); ok {
		key += "-" + action
	}
	ref := doc.Components.Schemas["x-webhook-"+key]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("webhook %s is not among those the fake is checked for", key)
	}
	var anyV any = v
	if err := ref.Value.VisitJSON(anyV, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("webhook %s does not match GitHub's schema: %s", key, schemaErrors(err))
	}
	return nil
}

// schemaErrors lists where and why a value breaks a schema, one short line each.
func schemaErrors(err error) string {
	var me openapi3.MultiError
	if !errors.As(err, &me) {
		return err.Error()
	}
	var lines []string
	for _, e := range me {
		var se *openapi3.SchemaError
		if errors.As(e, &se) {
			lines = append(lines, "/"+strings.Join(se.JSONPointer(), "/")+": "+se.Reason)
			continue
		}
		lines = append(lines, schemaErrors(e))
	}
	return strings.Join(lines, "; ")
}

// loadSpec reads GitHub's description and keeps only the routes the fake serves and
// the components they refer to: kin-openapi then resolves a small document (the whole
// one takes ten seconds to load).
func loadSpec(file string, routes []string) (*openapi3.T, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var full map[string]any
	if err := json.Unmarshal(data, &full); err != nil {
		return nil, err
	}
	paths, _ := full["paths"].(map[string]any)
	comps, _ := full["components"].(map[string]any)
	keptPaths := map[string]any{}
	keptComps := map[string]map[string]any{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "examples")
			delete(x, "example")
			if ref, ok := x["$ref"].(string); ok {
				parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
				if len(parts) == 2 {
					if keptComps[parts[0]] == nil {
						keptComps[parts[0]] = map[string]any{}
					}
					if _, seen := keptComps[parts[0]][parts[1]]; !seen {
						section, _ := comps[parts[0]].(map[string]any)
						target := section[parts[1]]
						keptComps[parts[0]][parts[1]] = target
						walk(target)
					}
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(map[string]any{"$ref": "#/components/schemas/basic-error"})
	// The webhook payloads the fake delivers, kept as components under their keys.
	hooks, _ := full["x-webhooks"].(map[string]any)
	for _, key := range webhookKeys {
		ref := webhookSchemaRef(hooks[key])
		if ref == "" {
			return nil, fmt.Errorf("GitHub's description has no webhook %s", key)
		}
		walk(map[string]any{"$ref": ref})
		if keptComps["schemas"] == nil {
			keptComps["schemas"] = map[string]any{}
		}
		keptComps["schemas"]["x-webhook-"+key] = map[string]any{"$ref": ref}
	}
	for _, r := range routes {
		p, ok := paths[r]
		if !ok {
			return nil, fmt.Errorf("GitHub's API has no route %s", r)
		}
		keptPaths[r] = p
		walk(p)
	}
	reduced := map[string]any{"openapi": full["openapi"], "info": full["info"], "paths": keptPaths, "components": keptComps}
	small, err := json.Marshal(reduced)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(small)
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// Fixture is one recorded request and answer of @octokit/fixtures.
type Fixture struct {
	Scope      string          `json:"scope"`
	Method     string          `json:"method"`
	Path       string          `json:"path"`
	Status     int             `json:"status"`
	Response   json.RawMessage `json:"response"`
	Headers    map[string]any  `json:"headers"`
	Reqheaders map[string]any  `json:"reqheaders"`
}

// Fixtures reads the normalized recording of one @octokit/fixtures scenario.
func Fixtures(t testing.TB, scenario string) []Fixture {
	t.Helper()
	file := filepath.Join(Octokit(t), "fixtures", "scenarios", "api.github.com", scenario, "normalized-fixture.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read recording %s: %v", scenario, err)
	}
	var out []Fixture
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("read recording %s: %v", scenario, err)
	}
	return out
}

// Header turns a recording's headers into an http.Header.
func (f Fixture) Header() map[string][]string {
	h := map[string][]string{}
	for k, v := range f.Headers {
		switch x := v.(type) {
		case string:
			h[http.CanonicalHeaderKey(k)] = []string{x}
		case float64:
			h[http.CanonicalHeaderKey(k)] = []string{strconv.FormatFloat(x, 'f', -1, 64)}
		}
	}
	return h
}
