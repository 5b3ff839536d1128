package github

import (
	"bytes"
	"net/http"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/forgehttp"
)

// Retry bounds how the forge retries a request GitHub could not serve: the policy
// every forge shares (forgehttp).
type Retry = forgehttp.Policy

// DefaultRetry is what serve and propose use.
var DefaultRetry = forgehttp.Default

// limited is GitHub's word on its rate limits beyond the shared rules: it answers
// them with 403 as well as 429 (with Retry-After, or its primary limit's spent
// X-RateLimit-Remaining), and a secondary limit without either lasts the documented
// minute. Any other 403 is a real permission error: retrying changes nothing.
func limited(resp *http.Response, body []byte) (bool, time.Duration) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return false, 0
	}
	if bytes.Contains(bytes.ToLower(body), []byte("secondary rate limit")) {
		return true, time.Minute
	}
	h := resp.Header
	return resp.StatusCode == http.StatusTooManyRequests || h.Get("Retry-After") != "" || h.Get("X-Ratelimit-Remaining") == "0", 0
}
