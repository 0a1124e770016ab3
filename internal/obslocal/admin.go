package obslocal

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

func sha256File(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// adminFault is Fault as JSON; Latency may be a Go duration string ("250ms")
// or integer nanoseconds.
type adminFault struct {
	Fault
	Latency json.RawMessage
}

// serveAdmin serves the unsigned, loopback-only control endpoints:
//
//	POST   /__obslocal/faults       JSON Fault → {"id": N}
//	DELETE /__obslocal/faults       clear all faults
//	GET    /__obslocal/stats        JSON Stats
//	POST   /__obslocal/stats/reset  zero the counters
//	POST   /__obslocal/security-token  JSON {"AccessKey": AK, "SecurityToken": T}:
//	                                   accept only T from now on (SetSecurityToken)
//	POST   /__obslocal/sparse-object   JSON SparseObject → JSON ObjectInfo:
//	                                   an object of zeros, stored sparse (PutSparseObject)
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		writeError(w, r, errAccessDenied("The obslocal admin endpoint is only served to loopback clients."))
		return
	}
	path := strings.TrimPrefix(r.URL.Path, adminPrefix)
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case path == "faults" && r.Method == http.MethodPost:
		var af adminFault
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		if err := dec.Decode(&af); err != nil {
			writeError(w, r, errInvalidArgument("bad fault JSON: %v", err))
			return
		}
		if len(af.Latency) > 0 && string(af.Latency) != "null" {
			var str string
			if json.Unmarshal(af.Latency, &str) == nil {
				d, err := time.ParseDuration(str)
				if err != nil {
					writeError(w, r, errInvalidArgument("bad Latency: %v", err))
					return
				}
				af.Fault.Latency = d
			} else {
				var n int64
				if err := json.Unmarshal(af.Latency, &n); err != nil {
					writeError(w, r, errInvalidArgument("bad Latency: %v", err))
					return
				}
				af.Fault.Latency = time.Duration(n)
			}
		}
		reply(map[string]int{"id": s.Inject(af.Fault)})
	case path == "faults" && r.Method == http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case path == "stats" && r.Method == http.MethodGet:
		reply(s.Stats())
	case path == "stats/reset" && r.Method == http.MethodPost:
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case path == "security-token" && r.Method == http.MethodPost:
		var req struct{ AccessKey, SecurityToken string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			writeError(w, r, errInvalidArgument("bad security-token JSON: %v", err))
			return
		}
		if err := s.SetSecurityToken(req.AccessKey, req.SecurityToken); err != nil {
			writeError(w, r, errInvalidArgument("%v", err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case path == "sparse-object" && r.Method == http.MethodPost:
		var so SparseObject
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&so); err != nil {
			writeError(w, r, errInvalidArgument("bad sparse-object JSON: %v", err))
			return
		}
		info, err := s.PutSparseObject(so)
		if err != nil {
			writeError(w, r, errInvalidArgument("%v", err))
			return
		}
		reply(info)
	default:
		writeError(w, r, errf(http.StatusNotFound, "NotFound", "unknown admin endpoint %s %s", r.Method, r.URL.Path))
	}
}
