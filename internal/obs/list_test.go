package obs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestListPartsPages(t *testing.T) {
	const total, pageSize = 7, 3
	var mu sync.Mutex
	var markers []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodGet || q.Get("uploadId") != "up-1" || r.URL.Path != "/"+testBucket+"/"+testKey {
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
		}
		if got := q.Get("max-parts"); got != strconv.Itoa(pageSize) {
			t.Errorf("max-parts = %q, want %d", got, pageSize)
		}
		mu.Lock()
		markers = append(markers, q.Get("part-number-marker"))
		mu.Unlock()
		marker, _ := strconv.Atoi(q.Get("part-number-marker"))
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><Bucket>bkt</Bucket><Key>dir/big.iso</Key><UploadId>up-1</UploadId>`)
		last := marker
		for n := marker + 1; n <= total && n <= marker+pageSize; n++ {
			fmt.Fprintf(&b, `<Part><PartNumber>%d</PartNumber><LastModified>2024-05-01T10:00:0%dZ</LastModified><ETag>"etag%d"</ETag><Size>%d</Size></Part>`, n, n%10, n, 100*n)
			last = n
		}
		fmt.Fprintf(&b, `<MaxParts>%d</MaxParts><PartNumberMarker>%d</PartNumberMarker><NextPartNumberMarker>%d</NextPartNumberMarker><IsTruncated>%v</IsTruncated></ListPartsResult>`,
			pageSize, marker, last, last < total)
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, b.String())
	}))
	defer srv.Close()
	parts, err := newTestClient(t, srv, nil).ListParts(context.Background(), ListPartsInput{
		Bucket: testBucket, Key: testKey, UploadID: "up-1", PageSize: pageSize,
	})
	if err != nil {
		t.Fatalf("ListParts: %v", err)
	}
	if len(parts) != total {
		t.Fatalf("got %d parts, want %d: %+v", len(parts), total, parts)
	}
	for i, p := range parts {
		n := i + 1
		if p.Number != n || p.ETag != fmt.Sprintf("etag%d", n) || p.Size != int64(100*n) || p.LastModified.IsZero() {
			t.Errorf("part %d = %+v", i, p)
		}
	}
	if got := strings.Join(markers, ","); got != ",3,6" {
		t.Errorf("part-number-markers sent = %q, want \",3,6\"", got)
	}
}

// A server that claims more pages but makes no progress must not loop us
// forever.
func TestListPartsNoProgress(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = io.WriteString(w, `<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>0</NextPartNumberMarker></ListPartsResult>`)
	}))
	defer srv.Close()
	_, err := newTestClient(t, srv, nil).ListParts(context.Background(), ListPartsInput{Bucket: testBucket, Key: testKey, UploadID: "u"})
	if err == nil || !strings.Contains(err.Error(), "without progress") {
		t.Fatalf("err = %v, want a no-progress error", err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestListUploadsFiltersAndPages(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	type up struct {
		key, id string
		at      time.Time
	}
	pages := [][]up{
		{{testKey, "u-b", t0.Add(2 * time.Minute)}, {testKey, "u-a", t0.Add(time.Minute)}},
		{{testKey, "u-c", t0}, {testKey + ".bak", "u-d", t0}},
		{{testKey + ".bak", "u-e", t0}},
	}
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		q := r.URL.Query()
		if !q.Has("uploads") || q.Get("prefix") != testKey || r.URL.Path != "/"+testBucket {
			t.Errorf("unexpected request %s", r.URL)
		}
		got = append(got, q.Get("key-marker")+"|"+q.Get("upload-id-marker"))
		i := len(got) - 1
		if i >= len(pages) {
			t.Errorf("request %d beyond the last page", i)
			http.Error(w, "no more pages", http.StatusBadRequest)
			return
		}
		var b strings.Builder
		b.WriteString(`<ListMultipartUploadsResult><Bucket>bkt</Bucket>`)
		for _, u := range pages[i] {
			fmt.Fprintf(&b, `<Upload><Key>%s</Key><UploadId>%s</UploadId><Initiated>%s</Initiated></Upload>`, u.key, u.id, u.at.Format(time.RFC3339))
		}
		last := pages[i][len(pages[i])-1]
		fmt.Fprintf(&b, `<NextKeyMarker>%s</NextKeyMarker><NextUploadIdMarker>%s</NextUploadIdMarker><IsTruncated>%v</IsTruncated></ListMultipartUploadsResult>`,
			last.key, last.id, i < len(pages)-1)
		_, _ = io.WriteString(w, b.String())
	}))
	defer srv.Close()
	uploads, err := newTestClient(t, srv, nil).ListUploads(context.Background(), testBucket, testKey)
	if err != nil {
		t.Fatalf("ListUploads: %v", err)
	}
	var ids []string
	for _, u := range uploads {
		if u.Key != testKey || u.Initiated.IsZero() {
			t.Errorf("upload %+v", u)
		}
		ids = append(ids, u.UploadID)
	}
	if strings.Join(ids, ",") != "u-c,u-a,u-b" {
		t.Errorf("uploads = %v, want u-c,u-a,u-b (exact key only, oldest first)", ids)
	}
	mu.Lock()
	defer mu.Unlock()
	// The second page starts after the first page's markers; the third
	// page is never asked for (every key on it sorts after ours).
	if want := []string{"|", testKey + "|u-a"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("markers sent = %q, want %q", got, want)
	}
}

func TestCompleteSortsAndQuotes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		want := `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"e1"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>"e2"</ETag></Part><Part><PartNumber>3</PartNumber><ETag>"e3"</ETag></Part></CompleteMultipartUpload>`
		if string(body) != want {
			t.Errorf("body = %s\nwant   %s", body, want)
		}
		if r.URL.Query().Get("uploadId") != "up" || r.Method != http.MethodPost {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		w.Header().Set("x-amz-version-id", "v42")
		_, _ = io.WriteString(w, `<CompleteMultipartUploadResult><Location>l</Location><Bucket>bkt</Bucket><Key>k</Key><ETag>"abc-3"</ETag></CompleteMultipartUploadResult>`)
	}))
	defer srv.Close()
	out, err := newTestClient(t, srv, nil).CompleteMultipartUpload(context.Background(), CompleteInput{
		Bucket: testBucket, Key: testKey, UploadID: "up",
		Parts: []Part{{Number: 3, ETag: "e3"}, {Number: 1, ETag: `"e1"`}, {Number: 2, ETag: "e2"}},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if out.ETag != "abc-3" || out.VersionID != "v42" {
		t.Errorf("out = %+v", out)
	}
}

func TestHeadObjectMapsHeaders(t *testing.T) {
	for _, sig := range []Signature{SignatureV2, SignatureOBS} {
		t.Run(string(sig), func(t *testing.T) {
			p := "x-amz-"
			if sig == SignatureOBS {
				p = "x-obs-"
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h := w.Header()
				h.Set("Content-Length", "12345")
				h.Set("ETag", `"abc-2"`)
				h.Set("Content-Type", "application/x-iso9660-image")
				h.Set("Content-Encoding", "gzip")
				h.Set("Last-Modified", "Wed, 01 May 2024 10:00:00 GMT")
				h.Set(p+"version-id", "v1")
				h.Set(p+"storage-class", "WARM")
				h.Set(p+"meta-Owner", "Team-A")
				h.Set(p+"uploadId", "up-9")
				h.Set(p+"server-side-encryption", "kms")
				h.Set(p+"website-redirect-location", "/other")
			}))
			defer srv.Close()
			c := newTestClient(t, srv, func(cfg *Config) {
				cfg.Signature = sig
				// Host-style OBS signing needs a host name: route it to
				// the test server.
				if sig == SignatureOBS {
					cfg.PathStyle = false
					cfg.Endpoint = "http://obs.local:" + srv.URL[strings.LastIndex(srv.URL, ":")+1:]
					cfg.DialContext = loopbackDialer(srv.Listener.Addr().String())
				}
			})
			info, err := c.HeadObject(context.Background(), HeadInput{Bucket: testBucket, Key: testKey})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			want := ObjectInfo{
				Size: 12345, ETag: "abc-2", VersionID: "v1", ContentType: "application/x-iso9660-image",
				ContentEncoding: "gzip", StorageClass: "WARM", UploadID: "up-9",
				Metadata:     map[string]string{"owner": "Team-A"},
				LastModified: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), SSE: "kms",
				WebsiteRedirectLocation: "/other",
			}
			if fmt.Sprint(info) != fmt.Sprint(want) || !info.LastModified.Equal(want.LastModified) {
				t.Errorf("info = %+v\nwant   %+v", info, want)
			}
		})
	}
}
