package upload

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// OptionsDigest identifies the object options a multipart upload is
// initiated with: OBS gives the completed object the metadata, content type,
// ACL, storage class, tags, encryption and retention of the initiation, not
// of the completion. The SSE-C key is left out (it never leaves the
// process; a part sent with another key is refused anyway), and an empty
// map counts as none.
func OptionsDigest(o obs.ObjectOptions) string {
	o.SSEC = nil
	if len(o.Metadata) == 0 {
		o.Metadata = nil
	}
	if len(o.Tags) == 0 {
		o.Tags = nil
	}
	b, err := json.Marshal(o) // map keys sorted: one encoding per value
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
