package obslocal_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

// The messages OBS sends with 403 InvalidAccessKeyId.
const (
	msgBadToken    = "The security token is invalid."
	msgUnknownKey  = "The OBS Access Key Id you provided does not exist in our records."
	tokenListPath  = "/" + obslocaltest.Bucket + "?uploads"
	tokenAdminPath = "/__obslocal/security-token"
)

// TestSecurityTokenRotation: after the token is replaced (Go API or admin
// endpoint) only the new one is accepted; the old one is refused as OBS
// refuses an expired token, in the OBS and SigV4 signature modes.
func TestSecurityTokenRotation(t *testing.T) {
	s, _ := obslocaltest.Start(t, obslocaltest.WithSecurityToken("T1"))
	for _, v4 := range []string{"", obslocal.UnsignedPayload} {
		name := "obs"
		if v4 != "" {
			name = "v4"
		}
		t.Run(name, func(t *testing.T) {
			c := newRaw(t, s)
			list := rawReq{method: "GET", path: tokenListPath, v4Payload: v4}
			c.token = "T1"
			if err := s.SetSecurityToken(obslocaltest.AccessKey, "T1"); err != nil {
				t.Fatal(err)
			}
			if resp, b := c.do(list); resp.StatusCode != 200 {
				t.Fatalf("with T1: %d %s", resp.StatusCode, b)
			}
			if err := s.SetSecurityToken(obslocaltest.AccessKey, "T2"); err != nil {
				t.Fatal(err)
			}
			c.expectErrMessage(list, 403, "InvalidAccessKeyId", msgBadToken) // T1 has expired
			c.token = "T2"
			if resp, b := c.do(list); resp.StatusCode != 200 {
				t.Fatalf("with T2: %d %s", resp.StatusCode, b)
			}
			c.token = ""
			c.expectErrMessage(list, 403, "InvalidAccessKeyId", msgUnknownKey)
		})
	}
	if err := s.SetSecurityToken("NOPE", "T9"); err == nil {
		t.Fatal("SetSecurityToken accepted an unknown access key")
	}
}

// TestSecurityTokenAdmin: POST /__obslocal/security-token replaces the token.
func TestSecurityTokenAdmin(t *testing.T) {
	s, _ := obslocaltest.Start(t, obslocaltest.WithSecurityToken("T1"))
	c := newRaw(t, s)
	c.token = "T1"
	list := rawReq{method: "GET", path: tokenListPath}
	if resp, b := c.do(list); resp.StatusCode != 200 {
		t.Fatalf("with T1: %d %s", resp.StatusCode, b)
	}
	post := func(body string) *http.Response {
		t.Helper()
		resp, err := http.Post(s.URL()+tokenAdminPath, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(`{"AccessKey":"` + obslocaltest.AccessKey + `","SecurityToken":"T2"}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("admin: %d", resp.StatusCode)
	}
	c.expectErrMessage(list, 403, "InvalidAccessKeyId", msgBadToken)
	c.token = "T2"
	if resp, b := c.do(list); resp.StatusCode != 200 {
		t.Fatalf("with T2: %d %s", resp.StatusCode, b)
	}
	for _, bad := range []string{`{"AccessKey":"NOPE","SecurityToken":"T3"}`, `{`} {
		if resp := post(bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("admin %s: %d, want 400", bad, resp.StatusCode)
		}
	}
	if resp, b := c.do(list); resp.StatusCode != 200 {
		t.Fatalf("a refused admin call changed the token: %d %s", resp.StatusCode, b)
	}
}

// TestSDKSecurityTokenRotation: the official SDK in every signature mode
// gets 403 InvalidAccessKeyId with the replaced token and succeeds with the
// new one; replacing the token while requests run is race-free.
func TestSDKSecurityTokenRotation(t *testing.T) {
	s, _ := obslocaltest.Start(t, obslocaltest.WithSecurityToken("old"))
	if err := s.SetSecurityToken(obslocaltest.AccessKey, "new"); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []sdkMode{sdkOBS, sdkV2, sdkV4} {
		t.Run(string(mode), func(t *testing.T) {
			in := &obs.InitiateMultipartUploadInput{}
			in.Bucket, in.Key = obslocaltest.Bucket, "k"
			_, err := sdkClient(t, s, mode, obslocaltest.AccessKey, obslocaltest.SecretKey, "old").InitiateMultipartUpload(in, amzDate())
			if oe := obsErr(t, err); oe.StatusCode != http.StatusForbidden || oe.Code != "InvalidAccessKeyId" || oe.Message != msgBadToken {
				t.Fatalf("old token: %+v", oe)
			}
			if _, err := sdkClient(t, s, mode, obslocaltest.AccessKey, obslocaltest.SecretKey, "new").InitiateMultipartUpload(in, amzDate()); err != nil {
				t.Fatalf("new token: %v", err)
			}
		})
	}

	c := newRaw(t, s)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				req := c.build(rawReq{method: "GET", path: tokenListPath})
				if resp, err := c.hc.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}()
		_ = s.SetSecurityToken(obslocaltest.AccessKey, string(rune('a'+i)))
	}
	wg.Wait()
}
