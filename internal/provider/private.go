package provider

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

// Keys of the resource's private state. Private state is stored in every
// state file, so it stays compact: an open upload of 10000 parts takes about
// 240 KB, and the server's ListParts is the truth on resume anyway.
const (
	// privateSource: the fingerprint → SHA-256 record of the source file,
	// so an unchanged file is not read again at plan.
	privateSource = "source"
	// privateUpload: an open multipart upload left by a failed or
	// interrupted apply: upload ID, layout, source fingerprint, the digest
	// of the object options it was initiated with, and the completed parts.
	privateUpload = "upload"
	// privateObject: identity of the object this resource wrote, so Delete
	// never removes an object someone (e.g. a create_before_destroy
	// replacement) wrote to the same key since.
	privateObject = "object"
)

// privateGetter and privateSetter are satisfied by the framework's private
// state in every request and response.
type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// uploadRecord is the stored form of an open upload.
type uploadRecord struct {
	Bucket   string             `json:"bucket"`
	Key      string             `json:"key"`
	UploadID string             `json:"upload_id"`
	PartSize int64              `json:"part_size"`
	Size     int64              `json:"size"`
	Source   upload.Fingerprint `json:"fp"`
	// Copy is the source object version of a copy's upload.
	Copy *upload.ObjectVersion `json:"copy,omitempty"`
	// Parts packs the completed parts: per part a big-endian uint16 number,
	// then either 0x00 and the 16-byte binary MD5 (ETags that are 32 hex
	// digits) or 0x01, a length byte and the ETag as is.
	Parts string `json:"parts"`
	// Options is the engine's digest of the object options the upload was
	// initiated with (upload.Record.Options).
	Options string `json:"options,omitempty"`
}

// objectRecord identifies the object a resource wrote.
type objectRecord struct {
	ETag         string `json:"etag"`
	VersionID    string `json:"version_id,omitempty"`
	UploadID     string `json:"upload_id,omitempty"`
	LastModified int64  `json:"last_modified,omitempty"`
}

func getPrivate[T any](ctx context.Context, p privateGetter, key string) (*T, diag.Diagnostics) {
	if p == nil {
		return nil, nil
	}
	b, diags := p.GetKey(ctx, key)
	if diags.HasError() || len(b) == 0 {
		return nil, diags
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		// Unreadable private state is not fatal: the server is the truth.
		return nil, nil
	}
	return &v, nil
}

// setPrivate stores v under key; a nil v removes the key.
func setPrivate(ctx context.Context, p privateSetter, key string, v any) diag.Diagnostics {
	if v == nil {
		return p.SetKey(ctx, key, nil)
	}
	b, err := json.Marshal(v)
	if err != nil {
		var d diag.Diagnostics
		d.AddError("Saving private state", err.Error())
		return d
	}
	return p.SetKey(ctx, key, b)
}

// encodeUpload packs an engine record for private state.
func encodeUpload(bucket, key string, r *upload.Record) (*uploadRecord, error) {
	buf := make([]byte, 0, len(r.Parts)*19)
	for _, p := range r.Parts {
		if p.Number < 1 || p.Number > upload.MaxParts {
			return nil, fmt.Errorf("part number %d out of range", p.Number)
		}
		buf = binary.BigEndian.AppendUint16(buf, uint16(p.Number))
		if md5, err := hex.DecodeString(p.ETag); err == nil && len(md5) == 16 {
			buf = append(buf, 0)
			buf = append(buf, md5...)
			continue
		}
		if len(p.ETag) > 255 {
			return nil, fmt.Errorf("part %d: ETag too long", p.Number)
		}
		buf = append(buf, 1, byte(len(p.ETag)))
		buf = append(buf, p.ETag...)
	}
	return &uploadRecord{
		Bucket: bucket, Key: key, UploadID: r.UploadID, PartSize: r.PartSize, Size: r.Size, Source: r.Source, Copy: r.Copy,
		Parts: base64.StdEncoding.EncodeToString(buf), Options: r.Options,
	}, nil
}

var errCorruptRecord = errors.New("corrupt upload record")

// decode unpacks the record for the engine; part sizes come from the layout.
func (u *uploadRecord) decode() (*upload.Record, error) {
	layout, err := upload.PlanParts(u.Size, u.PartSize)
	if err != nil {
		return nil, err
	}
	buf, err := base64.StdEncoding.DecodeString(u.Parts)
	if err != nil {
		return nil, errCorruptRecord
	}
	r := &upload.Record{UploadID: u.UploadID, PartSize: u.PartSize, Size: u.Size, Source: u.Source, Copy: u.Copy, Options: u.Options}
	for len(buf) > 0 {
		if len(buf) < 3 {
			return nil, errCorruptRecord
		}
		n := int(binary.BigEndian.Uint16(buf))
		var etag string
		switch buf[2] {
		case 0:
			if len(buf) < 19 {
				return nil, errCorruptRecord
			}
			etag, buf = hex.EncodeToString(buf[3:19]), buf[19:]
		case 1:
			if len(buf) < 4 || len(buf) < 4+int(buf[3]) {
				return nil, errCorruptRecord
			}
			etag, buf = string(buf[4:4+int(buf[3])]), buf[4+int(buf[3]):]
		default:
			return nil, errCorruptRecord
		}
		if n < 1 || n > layout.Parts {
			return nil, errCorruptRecord
		}
		_, size := layout.Part(n)
		r.Parts = append(r.Parts, upload.CompletedPart{Number: n, Size: size, ETag: etag})
	}
	return r, nil
}

// savePendingUpload keeps the open upload of a failed apply in private
// state, for the next apply to resume and destroy to abort; a nil record
// removes it.
func savePendingUpload(ctx context.Context, priv privateSetter, bucket, key string, record *upload.Record, diags *diag.Diagnostics) {
	if record == nil {
		diags.Append(setPrivate(ctx, priv, privateUpload, nil)...)
		return
	}
	enc, err := encodeUpload(bucket, key, record)
	if err != nil {
		tflog.Warn(ctx, "cannot record upload progress", map[string]any{"error": err.Error()})
		return
	}
	diags.Append(setPrivate(ctx, priv, privateUpload, enc)...)
}
