//go:build linux

package main

import (
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	sdk "github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
	"golang.org/x/sync/errgroup"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

func (s *server) endpoint() string { return "http://" + domain + ":" + s.port() }

// newClient is our OBS client layer, signing with the native OBS signature
// over virtual-hosted addressing, as the provider does against real OBS.
func newClient(s *server, conns int) (obs.Client, error) {
	return obs.New(obs.Config{
		Endpoint: s.endpoint(), AccessKey: accessKey, SecretKey: secretKey,
		Signature: obs.SignatureOBS, MaxConns: conns, MaxRetries: 1, DialContext: s.dial,
	})
}

// A method uploads the file at path to key with the given part size and
// concurrency.
type method struct {
	name string
	run  func(ctx context.Context, path, key string, size, partSize int64, conc int) error
}

func methods(s *server, c obs.Client, conc int) ([]method, error) {
	tr := &http.Transport{DialContext: s.dial, MaxIdleConns: 2 * (conc + 8), MaxIdleConnsPerHost: conc + 8,
		IdleConnTimeout: 90 * time.Second, DisableCompression: true}
	sc, err := sdk.New(accessKey, secretKey, s.endpoint(), sdk.WithSignature(sdk.SignatureObs), sdk.WithHttpTransport(tr))
	if err != nil {
		return nil, err
	}
	return []method{
		{"ceiling (parallel UploadPart, no hashing)", func(ctx context.Context, path, key string, size, ps int64, conc int) error {
			return ceilingUpload(ctx, c, path, key, size, ps, conc, false)
		}},
		{"engine (upload.Upload)", func(ctx context.Context, path, key string, _, ps int64, conc int) error {
			_, _, err := upload.Upload(ctx, c, upload.Input{Bucket: bucket, Key: key, Path: path, PartSize: ps, Concurrency: conc})
			return err
		}},
		{"SDK UploadFile", func(_ context.Context, path, key string, _, ps int64, conc int) error {
			in := &sdk.UploadFileInput{UploadFile: path, PartSize: ps, TaskNum: conc, EnableCheckpoint: false}
			in.Bucket, in.Key = bucket, key
			_, err := sc.UploadFile(in)
			return err
		}},
		{"ceiling + Content-MD5 (same loop, each part hashed before it is sent)", func(ctx context.Context, path, key string, size, ps int64, conc int) error {
			return ceilingUpload(ctx, c, path, key, size, ps, conc, true)
		}},
	}, nil
}

// ceilingUpload is the simplest parallel multipart upload: pre-sliced parts
// sent by conc workers through the same client, with no resume bookkeeping
// and, unless withMD5, no hashing and no Content-MD5. With withMD5 each
// worker reads its part once through crypto/md5 before sending it: the same
// integrity check as the engine, done the simplest way.
func ceilingUpload(ctx context.Context, c obs.Client, path, key string, size, ps int64, conc int, withMD5 bool) error {
	layout, err := upload.PlanParts(size, ps)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	id, err := c.InitiateMultipartUpload(ctx, obs.InitiateInput{Bucket: bucket, Key: key})
	if err != nil {
		return err
	}
	parts := make([]obs.Part, layout.Parts)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for n := 1; n <= layout.Parts; n++ {
		g.Go(func() error {
			off, sz := layout.Part(n)
			var sum []byte
			if withMD5 {
				h := md5.New()
				if _, err := io.Copy(h, io.NewSectionReader(f, off, sz)); err != nil {
					return err
				}
				sum = h.Sum(nil)
			}
			etag, err := c.UploadPart(gctx, obs.UploadPartInput{Bucket: bucket, Key: key, UploadID: id,
				PartNumber: n, Body: f, Offset: off, Size: sz, ContentMD5: sum})
			parts[n-1] = obs.Part{Number: n, Size: sz, ETag: etag}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	_, err = c.CompleteMultipartUpload(ctx, obs.CompleteInput{Bucket: bucket, Key: key, UploadID: id, Parts: parts})
	return err
}

type sample struct {
	wall, clientCPU, serverCPU time.Duration
}

// measure runs one upload and returns its wall time and the CPU time of this
// process and of the server process, then checks and deletes the object.
func measure(ctx context.Context, s *server, c obs.Client, m method, path, key string, size, ps int64, conc int) (sample, error) {
	runtime.GC()
	c0, s0, t0 := selfCPU(), s.cpu(), time.Now()
	err := m.run(ctx, path, key, size, ps, conc)
	smp := sample{wall: time.Since(t0), clientCPU: selfCPU() - c0, serverCPU: s.cpu() - s0}
	if err != nil {
		return smp, fmt.Errorf("%s: %w", m.name, err)
	}
	info, err := c.HeadObject(ctx, obs.HeadInput{Bucket: bucket, Key: key})
	if err != nil {
		return smp, fmt.Errorf("%s: checking the object: %w", m.name, err)
	}
	if info.Size != size {
		return smp, fmt.Errorf("%s: object has %d bytes, want %d", m.name, info.Size, size)
	}
	return smp, c.DeleteObject(ctx, bucket, key)
}

type resumeResult struct {
	interruptedAt float64 // fraction of the file the server held after the interruption
	missing, sent int64
	ratio, bound  float64
}

// resumeOnce interrupts an engine upload once half the bytes are done,
// then resumes it from the record the engine returned, and counts the part
// bytes the server received during the resumed run.
func resumeOnce(s *server, c obs.Client, path, key string, size, ps int64, conc int) (resumeResult, error) {
	var r resumeResult
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var fired atomic.Bool
	in := upload.Input{Bucket: bucket, Key: key, Path: path, PartSize: ps, Concurrency: conc,
		OnProgress: func(p upload.Progress) {
			if 2*p.BytesDone >= p.BytesTotal && fired.CompareAndSwap(false, true) {
				cancel()
			}
		}}
	_, rec, err := upload.Upload(ctx, c, in)
	if err == nil || rec == nil {
		return r, fmt.Errorf("interrupted upload: want an error and a record, got %w (record %v)", err, rec != nil)
	}
	// Let the server finish with the requests the cancellation cut off.
	time.Sleep(500 * time.Millisecond)
	bg := context.Background()
	held, err := c.ListParts(bg, obs.ListPartsInput{Bucket: bucket, Key: key, UploadID: rec.UploadID})
	if err != nil {
		return r, err
	}
	var heldBytes int64
	for _, p := range held {
		heldBytes += p.Size
	}
	r.missing = size - heldBytes
	r.interruptedAt = float64(heldBytes) / float64(size)
	b0, err := s.partBytes()
	if err != nil {
		return r, err
	}
	in.OnProgress, in.Record = nil, rec
	if _, _, err := upload.Upload(bg, c, in); err != nil {
		return r, fmt.Errorf("resumed upload: %w", err)
	}
	b1, err := s.partBytes()
	if err != nil {
		return r, err
	}
	r.sent = b1 - b0
	switch {
	case r.missing > 0:
		r.ratio = float64(r.sent) / float64(r.missing)
		r.bound = 1 + float64(int64(conc)*ps)/float64(r.missing)
	case r.sent == 0: // every part finished before the cancellation took effect
		r.ratio, r.bound = 1, 1
	default:
		r.ratio, r.bound = math.Inf(1), 1
	}
	return r, c.DeleteObject(bg, bucket, key)
}
