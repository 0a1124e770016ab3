package acctest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The documentation's example key pair.
const (
	exampleAK = "AKIAIOSFODNN7EXAMPLE"
	exampleSK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func newRequest(t *testing.T, method, url string, hdr map[string]string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	return r
}

// The worked examples of the Amazon S3 REST authentication (signature V2)
// documentation: virtual-hosted requests of bucket johnsmith.
func TestV2DocumentedExamples(t *testing.T) {
	for _, c := range []struct {
		method, url string
		hdr         map[string]string
		want        string
	}{
		{"GET", "http://johnsmith.s3.amazonaws.com/photos/puppy.jpg",
			map[string]string{"Date": "Tue, 27 Mar 2007 19:36:42 +0000"}, "bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
		{"PUT", "http://johnsmith.s3.amazonaws.com/photos/puppy.jpg",
			map[string]string{"Date": "Tue, 27 Mar 2007 21:15:45 +0000", "Content-Type": "image/jpeg"}, "MyyxeRY7whkBe+bq8fHCL/2kKUg="},
	} {
		r := newRequest(t, c.method, c.url, c.hdr)
		AWSV2Signature.Sign(r, exampleAK, exampleSK, "johnsmith")
		if got, want := r.Header.Get("Authorization"), "AWS "+exampleAK+":"+c.want; got != want {
			t.Errorf("%s %s: Authorization %q, want %q; string to sign %q", c.method, c.url, got, want,
				AWSV2Signature.StringToSign(r, "johnsmith"))
		}
	}
}

// The canonical resource keeps the signed sub-resources (any case, sorted,
// value as sent) and drops paging parameters; the date line is empty when
// the prefix's date header is sent; prefix headers are lower-case, sorted,
// trimmed, repeated ones joined.
func TestV2StringToSign(t *testing.T) {
	r := newRequest(t, "PUT", "http://127.0.0.1:9000/b/my%20key?uploadId=ID&partNumber=3&max-parts=5&response-content-type=a%2Fb", map[string]string{
		"Date": "Tue, 27 Mar 2007 21:15:45 +0000", "Content-MD5": "md5==", "X-Obs-Date": "Tue, 27 Mar 2007 21:15:46 +0000",
		"X-Obs-Meta-B": " two ", "x-amz-meta-c": "other prefix",
	})
	r.Header.Add("X-Obs-Meta-A", "1")
	r.Header.Add("X-Obs-Meta-A", "2")
	want := "PUT\nmd5==\n\n\nx-obs-date:Tue, 27 Mar 2007 21:15:46 +0000\nx-obs-meta-a:1,2\nx-obs-meta-b:two\n" +
		"/b/my%20key?partNumber=3&response-content-type=a/b&uploadId=ID"
	if got := OBSSignature.StringToSign(r, ""); got != want {
		t.Errorf("StringToSign =\n%q, want\n%q", got, want)
	}
	if got := OBSSignature.StringToSign(newRequest(t, "GET", "http://b.obs.local/k?uploads", nil), "b"); got != "GET\n\n\n\n/b/k?uploads" {
		t.Errorf("virtual-hosted StringToSign = %q", got)
	}
}

// The worked examples of the Amazon S3 Signature Version 4 documentation
// (header form, bucket examplebucket, 2013-05-24, us-east-1).
func TestSignV4DocumentedExamples(t *testing.T) {
	emptySHA := sha256.Sum256(nil)
	welcome := sha256.Sum256([]byte("Welcome to Amazon S3."))
	for _, c := range []struct {
		method, url string
		hdr         map[string]string
		payload     []byte
		signed      string
		want        string
	}{
		{"GET", "https://examplebucket.s3.amazonaws.com/test.txt", map[string]string{"Range": "bytes=0-9"}, emptySHA[:],
			"host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
		{"PUT", "https://examplebucket.s3.amazonaws.com/test%24file.text",
			map[string]string{"Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY"}, welcome[:],
			"date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
		{"GET", "https://examplebucket.s3.amazonaws.com/?lifecycle", nil, emptySHA[:],
			"host;x-amz-content-sha256;x-amz-date", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
		{"GET", "https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2", nil, emptySHA[:],
			"host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
	} {
		r := newRequest(t, c.method, c.url, c.hdr)
		SignV4(r, exampleAK, exampleSK, "us-east-1", hex.EncodeToString(c.payload), time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC))
		want := "AWS4-HMAC-SHA256 Credential=" + exampleAK + "/20130524/us-east-1/s3/aws4_request, SignedHeaders=" + c.signed + ", Signature=" + c.want
		if got := r.Header.Get("Authorization"); got != want {
			t.Errorf("%s %s: Authorization\n%q, want\n%q; canonical request %q", c.method, c.url, got, want,
				CanonicalRequestV4(r, strings.Split(c.signed, ";"), r.Header.Get("x-amz-content-sha256")))
		}
	}
}

// Query names and values are decoded and encoded again the SigV4 way
// (space %20, '/' %2F), pairs sorted by name, then value; header values
// are trimmed with inner runs of spaces folded.
func TestCanonicalRequestV4(t *testing.T) {
	r := newRequest(t, "PUT", "http://h:1/b/a%2Bb?uploads&x=a+b&a-b=2&a=2&a=1&p=a%2Fb", map[string]string{"X-Amz-Meta-K": "  v   w "})
	want := "PUT\n/b/a%2Bb\na=1&a=2&a-b=2&p=a%2Fb&uploads=&x=a%20b\nhost:h:1\nx-amz-meta-k:v w\n\nhost;x-amz-meta-k\n" + UnsignedPayload
	if got := CanonicalRequestV4(r, []string{"host", "x-amz-meta-k"}, UnsignedPayload); got != want {
		t.Errorf("CanonicalRequestV4 =\n%q, want\n%q", got, want)
	}
}
