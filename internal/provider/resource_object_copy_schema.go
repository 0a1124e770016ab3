package provider

import (
	"context"
	"fmt"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// copySharedAttributes are the attributes obs_object_copy takes from
// obs_object_multipart as they are, validators and descriptions included,
// so that each rule on an object option has one owner.
var copySharedAttributes = []string{
	"id", "bucket", "key", "acl", "storage_class", "website_redirect_location", "expires",
	"server_side_encryption", "kms_key_id", "object_lock_mode", "object_lock_retain_until_date", "grants",
	"version_id",
}

func objectCopySchemaV0(ctx context.Context) schema.Schema {
	shared := objectMultipartSchemaV0(ctx).Attributes
	attrs := map[string]schema.Attribute{}
	for _, name := range copySharedAttributes {
		attrs[name] = shared[name]
	}
	// Attributes of obs_object_multipart whose meaning differs for a copy.
	partSize := shared["part_size"].(schema.Int64Attribute)
	partSize.MarkdownDescription = fmt.Sprintf("Requested part size in bytes, %d (100 KiB) to %d (5 GiB). Default `%d` (9 MiB). "+
		"A source of at most one part is copied in a single request (CopyObject); a larger one part by part (Upload Part - Copy), "+
		"with the part size grown automatically when it would need more than 10000 parts (see `effective_part_size`). "+
		"Changing it does not copy an unchanged source again.",
		upload.MinPartSize, int64(upload.MaxPartSize), upload.DefaultPartSize)
	attrs["part_size"] = partSize
	concurrency := shared["concurrency"].(schema.Int64Attribute)
	concurrency.MarkdownDescription = fmt.Sprintf("Parts of this object copied at once, 1–10000. Default `%d`. "+
		"The provider's `max_concurrent_parts` caps the total across all objects, uploads and copies.", defaultConcurrency)
	attrs["concurrency"] = concurrency
	contentType := shared["content_type"].(schema.StringAttribute)
	contentType.MarkdownDescription = "MIME type of the copy. Default: the source's."
	attrs["content_type"] = contentType
	contentEncoding := shared["content_encoding"].(schema.StringAttribute)
	contentEncoding.MarkdownDescription = "Content-Encoding of the copy, e.g. `gzip`. Default: the source's."
	contentEncoding.Computed = true
	attrs["content_encoding"] = contentEncoding
	metadata := shared["metadata"].(schema.MapAttribute)
	metadata.MarkdownDescription = "User metadata (`x-obs-meta-*`) of the copy. Default: the source's. Names are lower-case letters, " +
		"digits and `-`; names and values are US-ASCII; at most 8 KiB in total including the entry the provider copies " +
		"(`" + metaSHA256 + "`). Setting it replaces the source's user metadata."
	metadata.Computed = true
	attrs["metadata"] = metadata
	tags := shared["tags"].(schema.MapAttribute)
	tags.MarkdownDescription = "Object tags (`x-obs-tagging`) of the copy, at most 10; keys 1–128 and values 0–255 characters. " +
		"Default: none — the source's tags are not copied."
	attrs["tags"] = tags
	ssec := shared["sse_c_key"].(schema.StringAttribute)
	ssec.MarkdownDescription = "SSE-C customer key for the copy: a base64-encoded 256-bit key. Sensitive: never logged; " +
		"Terraform keeps it in state. Needs an `https://` endpoint. Conflicts with `server_side_encryption`."
	attrs["sse_c_key"] = ssec
	attrs["timeouts"] = copyTimeouts(shared["timeouts"])

	attrs["source_bucket"] = schema.StringAttribute{
		MarkdownDescription: "Bucket of the object to copy (the same bucket or another in the same region). Changing it copies again, in place.",
		Required:            true,
		Validators: []validator.String{
			stringvalidator.RegexMatches(bucketNameRegexp, "must be 3-63 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"),
		},
	}
	attrs["source_key"] = schema.StringAttribute{
		MarkdownDescription: "Key of the object to copy, 1–1024 bytes. The plan reads the object's metadata (HEAD); a missing object " +
			"is a plan error unless `source_etag` is unknown. Changing it copies again, in place.",
		Required:   true,
		Validators: []validator.String{stringvalidator.LengthBetween(1, 1024)},
	}
	attrs["source_version_id"] = schema.StringAttribute{
		MarkdownDescription: "Version of the source to copy, in a bucket with versioning. Default: the current version at plan, " +
			"recorded here (empty when the bucket keeps no versions).",
		Optional:   true,
		Computed:   true,
		Validators: []validator.String{stringvalidator.LengthBetween(1, 1024), headerValue()},
	}
	attrs["source_etag"] = schema.StringAttribute{
		MarkdownDescription: "ETag the source must have. Every copy request carries it as `x-obs-copy-source-if-match`, so a source " +
			"replaced after the plan or during the copy fails the apply instead of being copied. Set it to the `etag` of the " +
			"resource that writes the source, e.g. `obs_object_multipart.build.etag`: while that resource is created or changed " +
			"the value is unknown, the plan does not read the source and shows the copy as changing, and the apply copies the " +
			"new object. A known value that differs from the source's ETag is a plan error. Default: the source's ETag at plan, recorded here.",
		Optional:   true,
		Computed:   true,
		Validators: []validator.String{stringvalidator.LengthBetween(1, 1024), headerValue()},
	}
	attrs["source_sse_c_key"] = schema.StringAttribute{
		MarkdownDescription: "SSE-C key of the source, when the source is encrypted with SSE-C: a base64-encoded 256-bit key. " +
			"Sensitive: never logged; Terraform keeps it in state. Needs an `https://` endpoint. Default: none. A key set for a source " +
			"that is not encrypted with SSE-C, or one OBS denies reading the source with (not the source's key), is an error on " +
			"this attribute, and nothing is copied.",
		Optional:   true,
		Sensitive:  true,
		Validators: []validator.String{sseCKeyValidator{}},
	}

	attrs["source_sha256"] = schema.StringAttribute{
		MarkdownDescription: "Hex SHA-256 of the content, when the source carries it as metadata `" + metaSHA256 + "` (every object " +
			"`obs_object_multipart` uploads does): the copy carries it too, so it keeps its provable content hash. Null otherwise.",
		Computed: true,
	}
	attrs["size"] = schema.Int64Attribute{
		MarkdownDescription: "Size of the source, and so of the copy, in bytes; known at plan when the source is.",
		Computed:            true,
	}
	attrs["etag"] = schema.StringAttribute{
		MarkdownDescription: "ETag of the copy: the source's ETag for a single-request copy of an object uploaded in one request, " +
			"`md5-of-part-md5s-N` for a copy in parts (the source's own ETag when it was uploaded in parts of the same size); " +
			"not an MD5 with server-side encryption.",
		Computed: true,
	}
	attrs["part_count"] = schema.Int64Attribute{
		MarkdownDescription: "Number of parts the object was copied in (0 for a single-request copy).",
		Computed:            true,
	}
	attrs["effective_part_size"] = schema.Int64Attribute{
		MarkdownDescription: "Part size actually used: `part_size`, grown when needed to stay within 10000 parts.",
		Computed:            true,
	}
	return schema.Schema{
		Version: 0,
		MarkdownDescription: "Copies an OBS object, of any size up to 48.8 TB, to another key or bucket server-side: no byte passes " +
			"through the machine running Terraform. A source of at most one part is copied in a single request; a larger one in " +
			"parts copied concurrently, every part on condition that the source still has the ETag the plan saw, so a source " +
			"replaced mid-copy fails the copy instead of mixing versions. The plan reads the source's metadata, so it shows " +
			"whether the source changed; a failed or interrupted copy is resumed by the next apply, which copies only the missing parts.",
		Attributes: attrs,
	}
}

// copyTimeouts is obs_object_multipart's timeouts attribute described for
// a copy.
func copyTimeouts(a schema.Attribute) schema.Attribute {
	nested, ok := a.(schema.SingleNestedAttribute)
	if !ok {
		return a
	}
	nested.MarkdownDescription = "How long Terraform waits for each operation. A copy that runs out of time is interrupted, " +
		"not aborted: its parts are kept and the next apply copies only the missing ones."
	nested.Attributes = maps.Clone(nested.Attributes)
	if create, ok := nested.Attributes["create"].(schema.StringAttribute); ok {
		create.MarkdownDescription = "Time allowed for a create, e.g. `24h`. Default `12h`. When it runs out the copy stops, " +
			"its parts are kept, and the next apply resumes it."
		nested.Attributes["create"] = create
	}
	return nested
}
