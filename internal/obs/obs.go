// Package obs is the one place that talks to Huawei Cloud OBS. It exposes a
// narrow, context-first interface with exactly the operations the upload
// engine and the Terraform resource need, implemented over the official OBS Go
// SDK with our own retry policy and typed errors.
package obs

import (
	"context"
	"io"
	"time"
)

// Client is the narrow interface to OBS. Every method honours its context,
// including while sleeping between retries.
type Client interface {
	// InitiateMultipartUpload starts a multipart upload and returns its ID.
	InitiateMultipartUpload(ctx context.Context, in InitiateInput) (string, error)
	// UploadPart sends one part with Content-MD5 and returns its ETag
	// (unquoted). The body is re-read from in.Body at in.Offset for every
	// attempt, so a retried part always sends the full body.
	UploadPart(ctx context.Context, in UploadPartInput) (string, error)
	// ListParts returns every part of an upload (all pages), ascending.
	ListParts(ctx context.Context, in ListPartsInput) ([]Part, error)
	// ListUploads returns every open multipart upload whose key is exactly
	// key (all pages), oldest first.
	ListUploads(ctx context.Context, bucket, key string) ([]Upload, error)
	// CompleteMultipartUpload assembles the listed parts (ascending).
	CompleteMultipartUpload(ctx context.Context, in CompleteInput) (CompleteOutput, error)
	// AbortMultipartUpload aborts an upload; its parts are discarded.
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error
	// HeadObject returns the object's metadata. A missing object is an
	// error for which IsNotFound reports true.
	HeadObject(ctx context.Context, in HeadInput) (ObjectInfo, error)
	// ListObject returns the listing entry of exactly key: size, ETag, last
	// modified time and storage class, without metadata. Unlike HeadObject
	// it needs no SSE-C key. A missing key is an error for which IsNotFound
	// reports true.
	ListObject(ctx context.Context, bucket, key string) (ObjectInfo, error)
	// DeleteObject deletes the object (the current version).
	DeleteObject(ctx context.Context, bucket, key string) error
	// PutObject uploads a whole object in one request (≤ 5 GB).
	PutObject(ctx context.Context, in PutObjectInput) (PutObjectOutput, error)
	// CopyObject copies a whole object server-side in one request; OBS
	// copies sources of at most 5 GB so (EntityTooLarge beyond), larger
	// ones part by part with UploadPartCopy. No object data pass through
	// the client.
	CopyObject(ctx context.Context, in CopyObjectInput) (CopyObjectOutput, error)
	// UploadPartCopy copies a byte range of an existing object into one
	// part of a multipart upload, server-side, and returns the part's ETag
	// (unquoted). Re-copying a part number replaces the part.
	UploadPartCopy(ctx context.Context, in UploadPartCopyInput) (string, error)
}

// Signature selects the request signing scheme.
type Signature string

const (
	// SignatureOBS is the native OBS signature with x-obs- headers (default).
	SignatureOBS Signature = "obs"
	// SignatureV2 is AWS signature V2 with x-amz- headers.
	SignatureV2 Signature = "v2"
	// SignatureV4 is AWS SigV4 with x-amz- headers.
	SignatureV4 Signature = "v4"
)

// Grants are canned-ACL extensions granting permissions to OBS domain IDs.
type Grants struct {
	Read        []string
	ReadACP     []string
	WriteACP    []string
	FullControl []string
}

// SSECustomerKey is a customer-provided SSE-C key. Its String and GoString
// methods never print the key.
type SSECustomerKey struct {
	// KeyBase64 is the base64 encoding of the 256-bit key.
	KeyBase64 string
}

// String redacts the key.
func (k *SSECustomerKey) String() string { return "SSE-C(redacted)" }

// GoString redacts the key.
func (k *SSECustomerKey) GoString() string { return k.String() }

// ObjectOptions are the object properties set when an upload is initiated
// (or on a single PUT), mirroring the SDKs' resumable uploadFile.
type ObjectOptions struct {
	ContentType             string
	ContentEncoding         string
	ACL                     string // private, public-read, public-read-write, bucket-owner-full-control
	StorageClass            string // STANDARD, WARM, COLD, DEEP_ARCHIVE
	Metadata                map[string]string
	Tags                    map[string]string
	WebsiteRedirectLocation string
	// ExpiresDays, when > 0, is sent as x-obs-expires.
	ExpiresDays int64
	// SSEKMS enables SSE-KMS, with SSEKMSKeyID as the optional key ID.
	SSEKMS      bool
	SSEKMSKeyID string
	SSEC        *SSECustomerKey
	// ObjectLockMode ("COMPLIANCE") and ObjectLockRetainUntil go together.
	ObjectLockMode        string
	ObjectLockRetainUntil time.Time
	Grants                Grants
}

// InitiateInput starts a multipart upload.
type InitiateInput struct {
	Bucket  string
	Key     string
	Options ObjectOptions
}

// UploadPartInput describes one part: Size bytes of Body starting at Offset.
type UploadPartInput struct {
	Bucket     string
	Key        string
	UploadID   string
	PartNumber int
	Body       io.ReaderAt
	Offset     int64
	Size       int64
	// ContentMD5 is the binary MD5 (16 bytes) of the part, sent base64
	// encoded as Content-MD5.
	ContentMD5 []byte
	SSEC       *SSECustomerKey
}

// ListPartsInput names an upload whose parts to list.
type ListPartsInput struct {
	Bucket   string
	Key      string
	UploadID string
	// PageSize is max-parts per request (1..1000); 0 means 1000.
	PageSize int
}

// Part is an uploaded part as the server reports it.
type Part struct {
	Number       int
	Size         int64
	ETag         string // unquoted
	LastModified time.Time
}

// Upload is an open multipart upload.
type Upload struct {
	Key       string
	UploadID  string
	Initiated time.Time
}

// CompleteInput assembles an upload from its parts (ascending numbers).
type CompleteInput struct {
	Bucket   string
	Key      string
	UploadID string
	Parts    []Part // Number and ETag are used
}

// CompleteOutput is the assembled object's identity.
type CompleteOutput struct {
	ETag      string // unquoted
	VersionID string
}

// HeadInput names an object; SSEC is required for SSE-C objects.
type HeadInput struct {
	Bucket string
	Key    string
	// VersionID selects a version; "" is the current one.
	VersionID string
	SSEC      *SSECustomerKey
}

// ObjectInfo is what HEAD returns.
type ObjectInfo struct {
	Size            int64
	ETag            string // unquoted
	VersionID       string
	ContentType     string
	ContentEncoding string
	StorageClass    string
	// UploadID is x-obs-uploadId: set on objects assembled by multipart.
	UploadID     string
	Metadata     map[string]string // user metadata, names lower-case
	LastModified time.Time
	// SSE is "kms" (SSE-KMS), "AES256" (SSE-C), "obs" (keys the server
	// manages: SSE-OBS, or SSE-S3 on an S3-compatible server, as a
	// bucket's default encryption gives) or "" when not server-side
	// encrypted.
	SSE string
	// WebsiteRedirectLocation echoes x-obs-website-redirect-location.
	WebsiteRedirectLocation string
}

// CopySource is the object a server-side copy reads.
type CopySource struct {
	Bucket string
	Key    string
	// VersionID selects a version of the source; "" is the current one.
	VersionID string
	// IfMatch, when set, is the ETag the source must have
	// (copy-source-if-match): a source that changed since fails the copy
	// with 412 PreconditionFailed (IsPreconditionFailed) instead of copying
	// other bytes.
	IfMatch string
	// SSEC is the key of a source encrypted with SSE-C.
	SSEC *SSECustomerKey
}

// CopyObjectInput copies Source whole into Bucket/Key.
type CopyObjectInput struct {
	Bucket string
	Key    string
	Source CopySource
	// ReplaceMetadata sends metadata directive REPLACE: the copy gets
	// Options' ContentType, ContentEncoding and Metadata, nothing of the
	// source's. Without it (COPY) the copy keeps the source's content type,
	// content encoding and user metadata, and those options must be empty.
	ReplaceMetadata bool
	// ReplaceTags sends tagging directive REPLACE: the copy gets
	// Options.Tags (none if empty). Without it (COPY) the copy keeps the
	// source's tags, and Options.Tags must be empty.
	ReplaceTags bool
	// Options are the copy's properties. ACL, storage class, encryption,
	// expiry, website redirect, object lock and grants are never taken
	// from the source.
	Options ObjectOptions
}

// CopyObjectOutput is the copy's identity.
type CopyObjectOutput struct {
	ETag      string // unquoted
	VersionID string
	// SourceVersionID is the version copied, when the source bucket is
	// versioned.
	SourceVersionID string
	LastModified    time.Time
}

// UploadPartCopyInput copies Size bytes of Source from Offset into part
// PartNumber of an upload.
type UploadPartCopyInput struct {
	Bucket     string
	Key        string
	UploadID   string
	PartNumber int
	Source     CopySource
	// Offset and Size (≥ 1) are the byte range to copy, sent as
	// copy-source-range bytes=Offset-(Offset+Size-1).
	Offset int64
	Size   int64
	// SSEC is the upload's key, when it was initiated with SSE-C.
	SSEC *SSECustomerKey
}

// PutObjectInput uploads Size bytes of Body from offset 0 in one request.
type PutObjectInput struct {
	Bucket     string
	Key        string
	Body       io.ReaderAt
	Size       int64
	ContentMD5 []byte
	Options    ObjectOptions
}

// PutObjectOutput is the stored object's identity.
type PutObjectOutput struct {
	ETag      string // unquoted
	VersionID string
}
