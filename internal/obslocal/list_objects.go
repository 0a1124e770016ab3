package obslocal

import (
	"encoding/xml"
	"net/http"
	"sort"
	"strings"
)

type listObjectsResult struct {
	XMLName     xml.Name    `xml:"ListBucketResult"`
	Xmlns       string      `xml:"xmlns,attr"`
	Name        string      `xml:"Name"`
	Prefix      string      `xml:"Prefix"`
	Marker      string      `xml:"Marker"`
	NextMarker  string      `xml:"NextMarker,omitempty"`
	MaxKeys     int         `xml:"MaxKeys"`
	IsTruncated bool        `xml:"IsTruncated"`
	Contents    []xmlObject `xml:"Contents"`
}

type xmlObject struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

// listObjects answers GET on a bucket (ListObjects, version 1): the objects
// whose key starts with prefix and sorts after marker, in key order, at most
// max-keys (≤ 1000) of them. A listing needs no SSE-C key. Delimiters are not
// implemented.
func (s *Server) listObjects(w http.ResponseWriter, r *http.Request, rt route, auth authResult) *apiError {
	q := r.URL.Query()
	if q.Get("delimiter") != "" {
		return errf(http.StatusNotImplemented, "NotImplemented", "obslocal does not implement delimiters in ListObjects")
	}
	maxKeys, e := intParam(r, "max-keys", 1000)
	if e != nil {
		return e
	}
	maxKeys = min(maxKeys, 1000)
	prefix, marker := q.Get("prefix"), q.Get("marker")
	objs, e := s.st.listObjects(rt.bucket)
	if e != nil {
		return e
	}
	res := listObjectsResult{Xmlns: xmlns, Name: rt.bucket, Prefix: prefix, Marker: marker, MaxKeys: maxKeys}
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, prefix) || o.Key <= marker {
			continue
		}
		if len(res.Contents) == maxKeys {
			res.IsTruncated = true
			res.NextMarker = res.Contents[len(res.Contents)-1].Key
			break
		}
		class := o.Attrs["x-storage-class"]
		if class == "" {
			class = "STANDARD"
		}
		if auth.mode != modeOBS {
			class = toAmzStorageClass(class)
		}
		res.Contents = append(res.Contents, xmlObject{Key: o.Key, LastModified: o.LastModified.Format(xmlTime),
			ETag: `"` + o.ETag + `"`, Size: o.Size, StorageClass: class})
	}
	writeXML(w, res)
	return nil
}

// listObjects returns the bucket's objects in key order.
func (st *store) listObjects(bucket string) ([]objectState, *apiError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	b := st.buckets[bucket]
	if b == nil {
		return nil, errNoSuchBucket(bucket)
	}
	out := make([]objectState, 0, len(b.objects))
	for _, o := range b.objects {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
