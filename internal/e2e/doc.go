// Package e2e holds the end-to-end resilience suite: Go tests that build the
// provider binary, run the real terraform binary against it through a
// dev_overrides CLI configuration, and drive the local OBS server's fault
// injection (internal/obslocal) to prove the resilience the README promises —
// interrupted applies resume, transient faults are absorbed, nothing corrupt
// is completed, nothing secret leaks, and every error says what to do.
//
// The suite runs in the default `go test ./...`. With E2E_WRITE_DOCS=1 it
// writes the table of cases and outcomes to docs/resilience.md. With
// E2E_PROVIDER_DIR it builds the provider from another checkout of the module
// (used to check that each test fails when its guarantee is broken).
package e2e
