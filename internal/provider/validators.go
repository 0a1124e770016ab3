package provider

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// maxMetadataBytes is OBS's limit on user metadata: names plus values.
const maxMetadataBytes = 8 * 1024

var metadataNameRegexp = regexp.MustCompile(`^[a-z0-9-]+$`)

// headerValue rejects strings that cannot travel in an HTTP header.
type headerValueValidator struct{}

func headerValue() validator.String { return headerValueValidator{} }

func (headerValueValidator) Description(context.Context) string {
	return "printable US-ASCII without line breaks"
}
func (v headerValueValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}
func (headerValueValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if i := firstNonHeaderByte(req.ConfigValue.ValueString()); i >= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid character",
			fmt.Sprintf("%s is sent as an HTTP header and must be printable US-ASCII; byte %d is not.", req.Path, i))
	}
}

func firstNonHeaderByte(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return i
		}
	}
	return -1
}

// metadataValidator enforces OBS's rules for x-obs-meta-*: lower-case names,
// US-ASCII, at most 8 KiB together with the provider's own entries.
type metadataValidator struct{}

func (metadataValidator) Description(context.Context) string {
	return "names of lower-case letters, digits and '-'; US-ASCII values; at most 8 KiB in total"
}
func (v metadataValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (metadataValidator) ValidateMap(_ context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	total := reservedMetadataBytes
	for name, v := range req.ConfigValue.Elements() {
		p := req.Path.AtMapKey(name)
		if !metadataNameRegexp.MatchString(name) {
			resp.Diagnostics.AddAttributeError(p, "Invalid metadata name",
				fmt.Sprintf("Metadata name %q must be lower-case letters, digits and '-' (OBS stores names lower-case).", name))
		}
		if isReservedMetadata(name) {
			resp.Diagnostics.AddAttributeError(p, "Reserved metadata name",
				fmt.Sprintf("Metadata name %q is set by the provider; choose another name.", name))
		}
		s, ok := stringElement(v)
		if !ok {
			continue
		}
		if i := firstNonHeaderByte(s); i >= 0 {
			resp.Diagnostics.AddAttributeError(p, "Metadata value is not US-ASCII",
				fmt.Sprintf("OBS metadata values must be printable US-ASCII; byte %d of %q is not. Encode it (e.g. URL-encode) first.", i, name))
		}
		total += len(name) + len(s)
	}
	if total > maxMetadataBytes {
		resp.Diagnostics.AddAttributeError(req.Path, "Metadata too large",
			fmt.Sprintf("Metadata names and values add up to %d bytes (including %d bytes the provider adds); OBS allows %d.",
				total, reservedMetadataBytes, maxMetadataBytes))
	}
}

// sseCKeyValidator requires a base64-encoded 256-bit key, and never echoes it.
type sseCKeyValidator struct{}

func (sseCKeyValidator) Description(context.Context) string {
	return "a base64-encoded 256-bit (32-byte) key"
}
func (v sseCKeyValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (sseCKeyValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	b, err := base64.StdEncoding.DecodeString(req.ConfigValue.ValueString())
	if err != nil || len(b) != 32 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid SSE-C key",
			fmt.Sprintf("%s must be a base64-encoded 256-bit (32-byte) key, e.g. the output of `openssl rand -base64 32`. "+
				"(The value is not shown because it is secret.)", req.Path))
	}
}

// rfc3339Validator requires an RFC 3339 timestamp.
type rfc3339Validator struct{}

func (rfc3339Validator) Description(context.Context) string {
	return "an RFC 3339 timestamp such as 2030-01-01T00:00:00Z"
}
func (v rfc3339Validator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (rfc3339Validator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid timestamp",
			fmt.Sprintf("%s must be an RFC 3339 timestamp such as 2030-01-01T00:00:00Z, got %q.", req.Path, req.ConfigValue.ValueString()))
	}
}
