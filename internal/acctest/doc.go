// Package acctest is the test kit of the provider's suites (internal/provider,
// internal/s3compat, internal/e2e) and of cmd/obsbench: process setup
// (Main), provider factories, pseudo-random source files, HCL builders and
// the dev_overrides CLI configuration for runs of the real terraform binary,
// and the one test signer of OBS, AWS V2 and SigV4 requests (sign.go), which
// internal/obs, internal/obslocal and internal/s3compat share, and the
// soaks' report fragments for docs/resilience.md (soakreport.go).
//
// It takes the framework's provider.Provider instead of importing
// internal/provider, whose tests import it. The local OBS server has its own
// helper, internal/obslocal/obslocaltest.
package acctest
