package acctest

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// ProviderFactories serve p as provider "obs" to terraform-plugin-testing
// (resource.TestCase.ProtoV6ProviderFactories). Each test builds its own p,
// so that a test's options (such as its dialer) are its own.
func ProviderFactories(p provider.Provider) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"obs": providerserver.NewProtocol6WithError(p),
	}
}
