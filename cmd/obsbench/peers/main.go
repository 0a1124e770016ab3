// Command peers uploads one file with an uploader people use instead of this
// provider, for obsbench to compare against the engine: the aws-sdk-go-v2
// S3 transfer manager (feature/s3/manager, what terraform-provider-aws's
// aws_s3_object uses) or minio-go v7. It is its own module so that the
// provider's go.mod carries none of their dependencies; obsbench runs it as a
// subprocess. Both sign with SigV4 over path-style addressing. It prints one
// line of JSON: the upload's wall time and this process's CPU time during it.
//
//	peers -tool aws|minio -endpoint http://127.0.0.1:PORT -region R -bucket B -key K -file F -part-size N -concurrency N
//	peers -tool aws -endpoint ... -create-bucket B
//
// With an https:// endpoint, -ca-file names a PEM CA bundle trusted besides
// the system roots (the local server's self-signed CA).
//
// The access key is read from PEERS_ACCESS_KEY and the secret from
// PEERS_SECRET_KEY, so that neither shows in a process listing.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// result is what one upload reports.
type result struct {
	Tool string `json:"tool"`
	// Settings describe what the tool sent, for the report.
	Settings string `json:"settings"`
	WallNs   int64  `json:"wall_ns"`
	CPUNs    int64  `json:"cpu_ns"`
	// ReadBytes is what this process read through read(2) and pread(2)
	// during the upload (the file and the server's responses); -1 when
	// the kernel does not say.
	ReadBytes int64 `json:"read_bytes"`
	Bytes     int64 `json:"bytes"`
}

type options struct {
	tool, endpoint, region, bucket, key, file string
	ak, sk                                    string
	roots                                     *x509.CertPool // nil: the system roots
	partSize                                  int64
	conc                                      int
	unsigned                                  bool
	whenRequired                              bool
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("peers: ")
	var o options
	var create string
	flag.StringVar(&o.tool, "tool", "", "aws (feature/s3/manager) or minio (minio-go v7)")
	flag.StringVar(&o.endpoint, "endpoint", "", "server URL, e.g. http://127.0.0.1:9000")
	flag.StringVar(&o.region, "region", "us-east-1", "SigV4 region")
	flag.StringVar(&o.bucket, "bucket", "", "bucket")
	flag.StringVar(&o.key, "key", "", "object key")
	flag.StringVar(&o.file, "file", "", "file to upload")
	flag.Int64Var(&o.partSize, "part-size", 16<<20, "part size in bytes")
	flag.IntVar(&o.conc, "concurrency", 4, "parts in flight")
	flag.BoolVar(&o.unsigned, "unsigned-payload", false, "minio: sign UNSIGNED-PAYLOAD instead of streaming SigV4 chunks (DisableContentSha256)")
	flag.BoolVar(&o.whenRequired, "checksum-when-required", false, "aws: compute request checksums only when an operation requires one "+
		"(RequestChecksumCalculation when_required), so that over HTTPS parts go as plain bodies, not aws-chunked with a trailing CRC32")
	flag.StringVar(&create, "create-bucket", "", "create this bucket and exit (aws)")
	caFile := flag.String("ca-file", "", "PEM CA bundle to trust besides the system roots (https:// endpoints)")
	flag.Parse()
	if *caFile != "" {
		var err error
		if o.roots, err = certPool(*caFile); err != nil {
			log.Fatal(err)
		}
	}
	o.ak, o.sk = os.Getenv("PEERS_ACCESS_KEY"), os.Getenv("PEERS_SECRET_KEY")
	if o.endpoint == "" || o.ak == "" || o.sk == "" {
		log.Fatal("-endpoint, PEERS_ACCESS_KEY and PEERS_SECRET_KEY are required")
	}
	ctx := context.Background()
	if create != "" {
		if _, err := awsClient(o).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(create)}); err != nil {
			log.Fatal(err)
		}
		return
	}
	if o.bucket == "" || o.key == "" || o.file == "" {
		log.Fatal("-bucket, -key and -file are required")
	}
	var up func(context.Context, options) (string, error)
	switch o.tool {
	case "aws":
		up = uploadAWS
	case "minio":
		up = uploadMinio
	default:
		log.Fatalf("-tool %q: want aws or minio", o.tool)
	}
	fi, err := os.Stat(o.file)
	if err != nil {
		log.Fatal(err)
	}
	c0, r0, t0 := cpu(), readBytes(), time.Now()
	settings, err := up(ctx, o)
	wall, used, read := time.Since(t0), cpu()-c0, readBytes()-r0
	if err != nil {
		log.Fatal(err)
	}
	if r0 < 0 {
		read = -1
	}
	if err := json.NewEncoder(os.Stdout).Encode(result{Tool: o.tool, Settings: settings, WallNs: wall.Nanoseconds(),
		CPUNs: used.Nanoseconds(), ReadBytes: read, Bytes: fi.Size()}); err != nil {
		log.Fatal(err)
	}
}

// certPool is the system roots and the PEM certificates in file.
func certPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// trust makes a transport verify servers against o.roots when set.
func (o options) trust(tr *http.Transport) {
	if o.roots == nil {
		return
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tr.TLSClientConfig.RootCAs = o.roots
}

func awsClient(o options) *s3.Client {
	return s3.New(s3.Options{
		Region:                     o.region,
		Credentials:                credentials.NewStaticCredentialsProvider(o.ak, o.sk, ""),
		BaseEndpoint:               aws.String(o.endpoint),
		UsePathStyle:               true,
		HTTPClient:                 awshttp.NewBuildableClient().WithTransportOptions(o.trust),
		RequestChecksumCalculation: o.checksumCalculation(),
	})
}

// checksumCalculation is the SDK's default unless -checksum-when-required.
func (o options) checksumCalculation() aws.RequestChecksumCalculation {
	if o.whenRequired {
		return aws.RequestChecksumCalculationWhenRequired
	}
	return aws.RequestChecksumCalculationWhenSupported
}

// uploadAWS uploads with the transfer manager's Uploader and the SDK's
// defaults (over plain HTTP: the SHA-256 of every part signed in the
// request, and a CRC32 checksum header; over HTTPS: unsigned payload and an
// aws-chunked body with a trailing CRC32), or with -checksum-when-required
// none of the CRC32s.
func uploadAWS(ctx context.Context, o options) (string, error) {
	f, err := os.Open(o.file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	up := manager.NewUploader(awsClient(o), func(u *manager.Uploader) {
		u.PartSize = o.partSize
		u.Concurrency = o.conc
		u.RequestChecksumCalculation = o.checksumCalculation()
	})
	_, err = up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key), Body: f})
	https := strings.HasPrefix(o.endpoint, "https://")
	var settings string
	switch {
	case https && o.whenRequired:
		settings = "feature/s3/manager Uploader, RequestChecksumCalculation when_required: SigV4 unsigned payload (HTTPS), no part checksum"
	case https:
		settings = "feature/s3/manager Uploader, SDK defaults: SigV4 unsigned payload, trailing CRC32 per part (HTTPS)"
	case o.whenRequired:
		settings = "feature/s3/manager Uploader, RequestChecksumCalculation when_required: SigV4 with the payload SHA-256 signed (plain HTTP), no part checksum"
	default:
		settings = "feature/s3/manager Uploader, SDK defaults: SigV4 with the payload SHA-256 signed (plain HTTP), CRC32 per part"
	}
	return settings, err
}

// uploadMinio uploads with FPutObject (parallel parts read from the file).
// Over plain HTTP minio-go signs each 64 KiB chunk of a part (streaming
// SigV4) unless -unsigned-payload.
func uploadMinio(ctx context.Context, o options) (string, error) {
	u, err := url.Parse(o.endpoint)
	if err != nil {
		return "", err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	o.trust(tr)
	mc, err := minio.New(u.Host, &minio.Options{
		Creds:        miniocreds.NewStaticV4(o.ak, o.sk, ""),
		Secure:       u.Scheme == "https",
		Region:       o.region,
		BucketLookup: minio.BucketLookupPath,
		Transport:    tr,
	})
	if err != nil {
		return "", err
	}
	opts := minio.PutObjectOptions{PartSize: uint64(o.partSize), NumThreads: uint(o.conc), DisableContentSha256: o.unsigned}
	_, err = mc.FPutObject(ctx, o.bucket, o.key, o.file, opts)
	settings := "FPutObject, defaults: streaming SigV4 (every 64 KiB chunk signed with its SHA-256), no part checksum"
	switch {
	case u.Scheme == "https":
		settings = "FPutObject, defaults: SigV4 unsigned payload (HTTPS), no part checksum"
	case o.unsigned:
		settings = "FPutObject, DisableContentSha256: SigV4 unsigned payload, no part checksum"
	}
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		err = fmt.Errorf("%s: %s (%s)", resp.Code, resp.Message, err)
	}
	return settings, err
}

// cpu is this process's user+system CPU time.
func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readBytes is rchar of /proc/self/io: the bytes this process has read
// through read(2) and pread(2); -1 when unknown.
func readBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}
