package upload

import (
	"context"
	"errors"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
)

// errFakeNoCopy: the in-memory fake does not copy server-side (yet).
var errFakeNoCopy = errors.New("fakeOBS: server-side copy is not implemented")

// CopyObject implements obs.Client; the fake does not copy.
func (f *fakeOBS) CopyObject(context.Context, obs.CopyObjectInput) (obs.CopyObjectOutput, error) {
	return obs.CopyObjectOutput{}, errFakeNoCopy
}

// UploadPartCopy implements obs.Client; the fake does not copy.
func (f *fakeOBS) UploadPartCopy(context.Context, obs.UploadPartCopyInput) (string, error) {
	return "", errFakeNoCopy
}
