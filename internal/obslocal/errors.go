package obslocal

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an OBS error response: an HTTP status, an OBS error code and a
// message, rendered as the OBS XML error body.
type apiError struct {
	Status  int
	Code    string
	Message string
	// Extra elements some codes carry (StringToSign for SignatureDoesNotMatch…).
	Extra [][2]string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

var (
	errNoSuchBucket = func(b string) *apiError {
		return errf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist: %s", b)
	}
	errNoSuchKey     = func() *apiError { return errf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.") }
	errNoSuchVersion = func() *apiError {
		return errf(http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.")
	}
	errNoSuchUpload = func() *apiError {
		return errf(http.StatusNotFound, "NoSuchUpload", "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.")
	}
	errInvalidArgument = func(format string, args ...any) *apiError {
		return errf(http.StatusBadRequest, "InvalidArgument", format, args...)
	}
	errAccessDenied = func(format string, args ...any) *apiError {
		return errf(http.StatusForbidden, "AccessDenied", format, args...)
	}
)

type xmlError struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
	Resource  string   `xml:"Resource,omitempty"`
	Inner     []byte   `xml:",innerxml"`
}

// writeError writes e as OBS does: the XML body (none for HEAD) plus the
// x-obs-request-id / x-obs-id-2 headers already set on every response.
func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	h := w.Header()
	if r.Method == http.MethodHead {
		h.Del("Content-Type")
		w.WriteHeader(e.Status)
		return
	}
	body := xmlError{Code: e.Code, Message: e.Message, RequestID: h.Get("x-obs-request-id"), HostID: h.Get("x-obs-id-2"), Resource: r.URL.Path}
	var inner []byte
	for _, kv := range e.Extra {
		var b []byte
		b = append(b, '<')
		b = append(b, kv[0]...)
		b = append(b, '>')
		var esc xmlEscaper
		_ = xml.EscapeText(&esc, []byte(kv[1]))
		b = append(b, esc...)
		b = append(b, "</"...)
		b = append(b, kv[0]...)
		b = append(b, '>')
		inner = append(inner, b...)
	}
	body.Inner = inner
	out, _ := xml.Marshal(body)
	out = append([]byte(xml.Header), out...)
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(out)
}

type xmlEscaper []byte

func (x *xmlEscaper) Write(p []byte) (int, error) { *x = append(*x, p...); return len(p), nil }

// writeXML writes a 200 response with an XML document.
func writeXML(w http.ResponseWriter, v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out = append([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"), out...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}
