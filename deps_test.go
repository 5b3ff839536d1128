package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

const module = "github.com/gitops-remediation/terraform-provider-remediation"

// daemonOnly are the remediator's packages that only the daemon needs: the
// provider reads the records the remediator keeps (remediator/records) and the
// infrastructure repository (remediator/infrarepo), and links none of these.
var daemonOnly = []string{
	"remediator/intake", "remediator/verify", "remediator/worker", "remediator/daemon",
	"remediator/server", "remediator/tracing", "remediator/lifecycle",
}

// daemonOnlyModules are prefixes of outside packages that come only with them:
// the OTLP exporter and the tracing SDK.
var daemonOnlyModules = []string{"go.opentelemetry.io/otel/exporters/", "go.opentelemetry.io/otel/sdk"}

// TestProviderLinksNoDaemonPackage: the provider binary (this package) depends on
// the record model and the infrastructure-repository reader, and on none of the
// daemon's packages: a change that makes the provider import the reconcile engine,
// the intake or the tracing exporter again fails here, not in a bigger binary.
func TestProviderLinksNoDaemonPackage(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Dir = testenv.ModuleRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps .: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, want := range []string{"remediator/records", "remediator/infrarepo", "provider"} {
		if !slices.Contains(deps, module+"/"+want) {
			t.Errorf("the provider does not depend on %s: go list found %d packages, the scan is broken", want, len(deps))
		}
	}
	for _, dep := range deps {
		for _, pkg := range daemonOnly {
			if dep == module+"/"+pkg || strings.HasPrefix(dep, module+"/"+pkg+"/") {
				t.Errorf("the provider depends on %s, a package only the remediator daemon needs (see `go list -deps .`)", pkg)
			}
		}
		for _, prefix := range daemonOnlyModules {
			if strings.HasPrefix(dep, prefix) {
				t.Errorf("the provider depends on %s, which only the remediator daemon's tracing needs", dep)
			}
		}
	}
}
