// Command terraform-provider-remediation serves the remediation Terraform provider.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/gitops-remediation/terraform-provider-remediation/provider"
)

// version is set by goreleaser.
var version = "dev"

// Docs: `go generate ./...` with a terraform on the PATH (tfplugindocs reads the
// provider's schema through it) renders docs/ as `make generate` does; tfplugindocs
// is pinned as a tool in go.mod.
//go:generate go tool tfplugindocs generate --provider-name remediation --rendered-provider-name Remediation

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	quietSDKLogs()
	lessGC()
	stop := profile()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/gitops-remediation/remediation",
		Debug:   debug,
	})
	stop()
	if err != nil {
		log.Fatal(err.Error())
	}
}

// lessGC collects when the heap has grown five times over, not twice (unless GOGC or
// GOMEMLIMIT says otherwise). A provider's live heap is a few megabytes, and the
// plugin framework allocates per attribute per resource on every call: at Go's
// default, collection was a quarter of the provider's CPU in a 200-resource apply,
// on the same cores as Terraform.
func lessGC() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(400)
	}
}

// profile writes a CPU profile of this provider process when
// TF_REMEDIATION_CPUPROFILE names a directory (one file per process): what the apply
// benchmark's profile is made of, since Terraform starts the provider itself.
func profile() func() {
	none := func() {}
	dir := os.Getenv("TF_REMEDIATION_CPUPROFILE")
	if dir == "" {
		return none
	}
	f, err := os.CreateTemp(dir, "provider-*.pprof")
	if err != nil {
		log.Printf("cpu profile: %v", err)
		return none
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Printf("cpu profile: %v", err)
		_ = f.Close()
		return none
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }
}

// quietSDKLogs keeps the plugin SDK's trace logging off unless the user asked for
// logs. Terraform discards it anyway without TF_LOG, but producing it costs a third of
// the provider's time per resource. TF_LOG, TF_LOG_PROVIDER or the SDK's own
// variables still turn it on.
func quietSDKLogs() {
	for _, v := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		if os.Getenv(v) != "" {
			return
		}
	}
	for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		_ = os.Setenv(v, "WARN")
	}
}
