package obslocal

import (
	"maps"
	"net/http"
	"strings"
	"sync"
)

// maxArrivalHosts bounds the distinct Host headers counted one by one; the
// rest are counted under otherHosts.
const (
	maxArrivalHosts = 256
	otherHosts      = "(other hosts)"
)

// arrivals counts how requests reached the server: the Host they were
// addressed to, the signature scheme they were signed with and whether
// they carried a security token. They are counted before authentication,
// so a refused request counts too.
type arrivals struct {
	mu        sync.Mutex
	hosts     map[string]int64
	schemes   map[string]int64
	withToken int64
}

func newArrivals() *arrivals {
	return &arrivals{hosts: map[string]int64{}, schemes: map[string]int64{}}
}

// count records one request.
func (a *arrivals) count(r *http.Request) {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	host := strings.ToLower(r.Host)
	token := r.Header.Get("x-obs-security-token") != "" || r.Header.Get("x-amz-security-token") != ""
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.hosts[host]; !ok && len(a.hosts) >= maxArrivalHosts {
		host = otherHosts
	}
	a.hosts[host]++
	if scheme != "OBS" && scheme != "AWS" && scheme != "AWS4-HMAC-SHA256" && scheme != "" {
		scheme = "other"
	}
	a.schemes[scheme]++
	if token {
		a.withToken++
	}
}

func (a *arrivals) snapshot(st *Stats) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st.Hosts, st.Signatures, st.WithSecurityToken = maps.Clone(a.hosts), maps.Clone(a.schemes), a.withToken
}

func (a *arrivals) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.hosts)
	clear(a.schemes)
	a.withToken = 0
}
