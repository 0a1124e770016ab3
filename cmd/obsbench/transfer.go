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
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
	"golang.org/x/sync/errgroup"

	"github.com/obsprovider/terraform-provider-obs/internal/obs"
	"github.com/obsprovider/terraform-provider-obs/internal/upload"
)

func (s *server) endpoint() string { return s.scheme + "://" + domain + ":" + s.port() }

// newClient is our OBS client layer, signing with the native OBS signature
// over virtual-hosted addressing, as the provider does against real OBS;
// over HTTPS it trusts the server's CA as the provider's ca_file makes
// it.
func newClient(s *server, conns int) (obs.Client, error) {
	return obs.New(obs.Config{
		Endpoint: s.endpoint(), AccessKey: accessKey, SecretKey: secretKey, CACertPEM: s.caPEM,
		Signature: obs.SignatureOBS, MaxConns: conns, MaxRetries: 1, DialContext: s.dial,
	})
}

// Keys of the methods, for the report to find them in a comparison.
const (
	mCeiling    = "ceiling"
	mEngine     = "engine"      // part MD5s from the plan (upload.SumFile), as an apply after a plan
	mEngineHash = "engine-hash" // hashing ahead at apply
	mSDK        = "sdk"
	mCeilingMD5 = "ceiling-md5"
	mAWS        = "aws"
	mMinio      = "minio"
	mTerraform  = "terraform"
)

// A method uploads the file at path to key with the given part size and
// concurrency, and returns the client side of its sample (wall time, client
// CPU, client reads); measure adds the server's CPU.
type method struct {
	key, name string
	run       func(ctx context.Context, path, key string, size, partSize int64, conc int) (sample, error)
}

// inProcess makes a method of an upload done by this process: its sample
// is this process's wall time, CPU time and bytes read around fn.
func inProcess(key, name string, fn func(ctx context.Context, path, key string, size, partSize int64, conc int) error) method {
	return method{key: key, name: name, run: func(ctx context.Context, path, objKey string, size, ps int64, conc int) (sample, error) {
		runtime.GC()
		c0, r0, t0 := selfCPU(), selfReadBytes(), time.Now()
		err := fn(ctx, path, objKey, size, ps, conc)
		return sample{wall: time.Since(t0), clientCPU: selfCPU() - c0, clientRead: selfReadBytes() - r0}, err
	}}
}

// obsMethods are the methods that speak to obslocal through the OBS client
// layer or the OBS SDK, with the native OBS signature.
func obsMethods(s *server, c obs.Client, conc int) ([]method, error) {
	tr := &http.Transport{DialContext: s.dial, MaxIdleConns: 2 * (conc + 8), MaxIdleConnsPerHost: conc + 8,
		IdleConnTimeout: 90 * time.Second, DisableCompression: true, TLSClientConfig: s.tlsConfig()}
	sc, err := sdk.New(accessKey, secretKey, s.endpoint(), sdk.WithSignature(sdk.SignatureObs), sdk.WithHttpTransport(tr))
	if err != nil {
		return nil, err
	}
	return []method{
		ceilingMethod(c),
		engineMethod(c, true),
		engineMethod(c, false),
		inProcess(mSDK, "SDK UploadFile", func(_ context.Context, path, key string, _, ps int64, conc int) error {
			in := &sdk.UploadFileInput{UploadFile: path, PartSize: ps, TaskNum: conc, EnableCheckpoint: false}
			in.Bucket, in.Key = bucket, key
			_, err := sc.UploadFile(in)
			return err
		}),
		inProcess(mCeilingMD5, "ceiling + Content-MD5 (same loop, each part hashed before it is sent)", func(ctx context.Context, path, key string, size, ps int64, conc int) error {
			return ceilingUpload(ctx, c, path, key, size, ps, conc, true)
		}),
	}, nil
}

func ceilingMethod(c obs.Client) method {
	return inProcess(mCeiling, "ceiling (parallel UploadPart, no hashing)", func(ctx context.Context, path, key string, size, ps int64, conc int) error {
		return ceilingUpload(ctx, c, path, key, size, ps, conc, false)
	})
}

// engineMethod is upload.Upload through c. With planned set it is given the
// part MD5s upload.SumFile computes, as the provider's apply is after a plan
// (computed once per file and part size, before the runs: that pass is the
// plan's, measured in row 2 and in the end-to-end rows). Each run records
// how long the first UploadPart waited after the upload was initiated.
func engineMethod(c obs.Client, planned bool) method {
	key, name := mEngineHash, "engine, hashing at apply (upload.Upload)"
	if planned {
		key, name = mEngine, "engine, part MD5s from the plan (upload.Upload with PartMD5s)"
	}
	var mu sync.Mutex
	sums := map[[2]string]*upload.PartSums{}
	m := method{key: key, name: name}
	m.run = func(ctx context.Context, path, objKey string, size, ps int64, conc int) (sample, error) {
		in := upload.Input{Bucket: bucket, Key: objKey, Path: path, PartSize: ps, Concurrency: conc}
		if planned {
			id := [2]string{path, strconv.FormatInt(ps, 10)}
			mu.Lock()
			s, ok := sums[id]
			mu.Unlock()
			if !ok {
				var err error
				if s, err = planSums(ctx, path, ps); err != nil {
					return sample{}, err
				}
				mu.Lock()
				sums[id] = s
				mu.Unlock()
			}
			in.PartMD5s = s
		}
		tc := &timedClient{Client: c}
		smp, err := inProcess(key, name, func(ctx context.Context, _, _ string, _, _ int64, _ int) error {
			_, _, err := upload.Upload(ctx, tc, in)
			return err
		}).run(ctx, path, objKey, size, ps, conc)
		smp.firstPart = tc.firstPartDelay()
		return smp, err
	}
	return m
}

// planSums computes what the provider's plan computes for path: its
// SHA-256 and the MD5 of every part of partSize.
func planSums(ctx context.Context, path string, partSize int64) (*upload.PartSums, error) {
	fp, err := upload.StatFingerprint(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := upload.SumFile(ctx, f, fp, partSize)
	return s.Parts, err
}

// timedClient notes when the upload was initiated and when its first
// UploadPart was called.
type timedClient struct {
	obs.Client
	mu                   sync.Mutex
	initiated, firstCall time.Time
}

func (t *timedClient) InitiateMultipartUpload(ctx context.Context, in obs.InitiateInput) (string, error) {
	id, err := t.Client.InitiateMultipartUpload(ctx, in)
	t.mu.Lock()
	t.initiated = time.Now()
	t.mu.Unlock()
	return id, err
}

func (t *timedClient) UploadPart(ctx context.Context, in obs.UploadPartInput) (string, error) {
	t.mu.Lock()
	if t.firstCall.IsZero() {
		t.firstCall = time.Now()
	}
	t.mu.Unlock()
	return t.Client.UploadPart(ctx, in)
}

// firstPartDelay is how long after the initiate the first UploadPart was
// called (0 when there was none).
func (t *timedClient) firstPartDelay() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.initiated.IsZero() || t.firstCall.IsZero() {
		return 0
	}
	return t.firstCall.Sub(t.initiated)
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
	clientRead                 int64         // bytes the client read (read(2), pread(2)); -1 when unknown
	firstPart                  time.Duration // engine: first UploadPart after the initiate
	settings                   string        // peers: what they sent, as they report it
}

// measure runs one upload and adds the server process's CPU time to its
// sample, then checks and deletes the object.
func measure(ctx context.Context, tg *target, m method, path, key string, size, ps int64, conc int) (sample, error) {
	s0 := tg.cpu()
	smp, err := m.run(ctx, path, key, size, ps, conc)
	smp.serverCPU = tg.cpu() - s0
	if err != nil {
		return smp, fmt.Errorf("%s: %w", m.name, err)
	}
	info, err := tg.cl.HeadObject(ctx, obs.HeadInput{Bucket: bucket, Key: key})
	if err != nil {
		return smp, fmt.Errorf("%s: checking the object: %w", m.name, err)
	}
	if info.Size != size {
		return smp, fmt.Errorf("%s: object has %d bytes, want %d", m.name, info.Size, size)
	}
	return smp, tg.cl.DeleteObject(ctx, bucket, key)
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
