package obslocal_test

import (
	"net"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// Stats count how requests arrived: the Host they named, the signature
// scheme and whether a security token came with them, refused requests
// included; ResetStats zeroes them.
func TestStatsArrivals(t *testing.T) {
	s, _ := obslocaltest.Start(t, obslocaltest.WithSecurityToken("T1"))
	_, port, _ := net.SplitHostPort(s.Addr())
	list := &obs.ListMultipartUploadsInput{Bucket: obslocaltest.Bucket}
	if _, err := sdkClient(t, s, sdkOBS, obslocaltest.AccessKey, obslocaltest.SecretKey, "T1").ListMultipartUploads(list); err != nil {
		t.Fatal(err)
	}
	if _, err := sdkClient(t, s, sdkV2, obslocaltest.AccessKey, obslocaltest.SecretKey, "T1").ListMultipartUploads(list); err != nil {
		t.Fatal(err)
	}
	if _, err := sdkClient(t, s, sdkOBS, obslocaltest.AccessKey, obslocaltest.SecretKey, "").ListMultipartUploads(list); err == nil {
		t.Fatal("a temporary key without its token was accepted")
	}
	st := s.Stats()
	vhost, path := obslocaltest.Bucket+".obs.local:"+port, s.Addr()
	if st.Hosts[vhost] != 2 || st.Hosts[path] != 1 || len(st.Hosts) != 2 {
		t.Errorf("Hosts = %v, want 2 × %s and 1 × %s", st.Hosts, vhost, path)
	}
	if st.Signatures["OBS"] != 2 || st.Signatures["AWS"] != 1 || len(st.Signatures) != 2 {
		t.Errorf("Signatures = %v, want OBS 2, AWS 1", st.Signatures)
	}
	if st.WithSecurityToken != 2 {
		t.Errorf("WithSecurityToken = %d, want 2", st.WithSecurityToken)
	}
	s.ResetStats()
	if st := s.Stats(); len(st.Hosts) != 0 || len(st.Signatures) != 0 || st.WithSecurityToken != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
}
