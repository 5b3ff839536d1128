package gitea

import "github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/forgehttp"

// Retry bounds how the forge retries a request Gitea could not serve: the policy
// every forge shares (forgehttp).
type Retry = forgehttp.Policy

// DefaultRetry is what serve and propose use: the shared policy without its
// per-attempt timeout, as before the policy was shared. A Gitea merge under load can
// take long, and a timed-out merge sent again is a second merge call.
var DefaultRetry = forgehttp.Policy{Attempts: forgehttp.Default.Attempts, MaxWait: forgehttp.Default.MaxWait, Backoff: forgehttp.Default.Backoff}
