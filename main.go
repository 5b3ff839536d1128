// Command terraform-provider-remediation serves the remediation Terraform provider.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/gitops-remediation/terraform-provider-remediation/provider"
)

// version is set by goreleaser.
var version = "dev"

//go:generate go run github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs generate --provider-name remediation

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/gitops-remediation/remediation",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
