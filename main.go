// Command terraform-provider-obs is a Terraform provider that moves large
// files into Huawei Cloud OBS with concurrent, verified, resumable multipart
// uploads.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/obsprovider/terraform-provider-obs/internal/provider"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

// registryAddress is the provider's source address.
const registryAddress = "registry.terraform.io/obsprovider/obs"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	if !debug {
		go exitWhenOrphaned()
	}

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address:         registryAddress,
		Debug:           debug,
		ProtocolVersion: 6,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
