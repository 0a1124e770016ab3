package provider

import (
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/obsprovider/terraform-provider-obs/internal/acctest"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal"
	"github.com/obsprovider/terraform-provider-obs/internal/obslocal/obslocaltest"
)

const (
	testPartSize = 100 * 1024
	resName      = "obs_object_multipart.test"
)

func testAccObjectMultipartConfig_basic(srv *testServer, key, source string, concurrency int) string {
	return srv.providerConfig() + acctest.ObjectBlock("test", obslocaltest.Bucket, key, source,
		acctest.Attr("part_size", testPartSize), acctest.Attr("concurrency", concurrency))
}

// checkObject asserts the stored object's bytes have the given SHA-256.
func checkObject(srv *testServer, key, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := srv.objectSHA256(key); got != want {
			return fmt.Errorf("object %s has SHA-256 %q, want %q", key, got, want)
		}
		return nil
	}
}

func checkNoOpenUploads(srv *testServer) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if u := srv.openUploads(); len(u) != 0 {
			return fmt.Errorf("%d open upload(s) left: %+v", len(u), u)
		}
		return nil
	}
}

// Create → empty plan → file changed → update → import → destroy.
func TestObjectMultipart_lifecycle(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	src, sum1 := acctest.WriteSource(t, dir, "data.bin", 350*1024, 1)
	var sum2 string
	etag := statecheck.CompareValue(compare.ValuesSame())
	key := "images/data.bin"

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		CheckDestroy: func(*terraform.State) error {
			if srv.objectSHA256(key) != "" {
				return fmt.Errorf("object still exists after destroy")
			}
			return checkNoOpenUploads(srv)(nil)
		},
		Steps: []resource.TestStep{
			{
				Config: testAccObjectMultipartConfig_basic(srv, key, src, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(resName, tfjsonpath.New("source_sha256"), knownvalue.StringExact(sum1)),
					plancheck.ExpectKnownValue(resName, tfjsonpath.New("part_count"), knownvalue.Int64Exact(4)),
					plancheck.ExpectUnknownValue(resName, tfjsonpath.New("etag")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("id"), knownvalue.StringExact(obslocaltest.Bucket+"/"+key)),
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("size"), knownvalue.Int64Exact(350*1024)),
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("etag"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{32}-4$`))),
					statecheck.ExpectKnownValue(resName, tfjsonpath.New("content_type"), knownvalue.StringExact("application/octet-stream")),
					etag.AddStateValue(resName, tfjsonpath.New("etag")),
				},
				Check: resource.ComposeTestCheckFunc(checkObject(srv, key, sum1), checkNoOpenUploads(srv)),
			},
			{
				// Nothing changed: empty plan, and no byte is sent again.
				PreConfig: func() { srv.ResetStats() },
				Config:    testAccObjectMultipartConfig_basic(srv, key, src, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{etag.AddStateValue(resName, tfjsonpath.New("etag"))},
				Check: func(*terraform.State) error {
					if n := srv.partBytes(); n != 0 {
						return fmt.Errorf("unchanged object: %d part bytes sent", n)
					}
					return nil
				},
			},
			{
				// Content changed: in-place update, etag unknown in the plan.
				PreConfig: func() { _, sum2 = acctest.WriteSource(t, dir, "data.bin", 420*1024, 2) },
				Config:    testAccObjectMultipartConfig_basic(srv, key, src, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(resName, tfjsonpath.New("etag")),
				}},
				Check: func(s *terraform.State) error { return checkObject(srv, key, sum2)(s) },
			},
			{
				// Transfer settings only: update without re-upload.
				PreConfig: func() { srv.ResetStats() },
				Config:    testAccObjectMultipartConfig_basic(srv, key, src, 3),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(resName, tfjsonpath.New("etag"), knownvalue.NotNull()),
				}},
				Check: func(*terraform.State) error {
					if n := srv.partBytes(); n != 0 {
						return fmt.Errorf("transfer-setting change re-sent %d bytes", n)
					}
					return nil
				},
			},
			{
				ResourceName:            resName,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateIdFunc:       func(*terraform.State) (string, error) { return "obs://" + obslocaltest.Bucket + "/" + key, nil },
				ImportStateVerifyIgnore: []string{"concurrency", "part_size", "timeouts"},
			},
		},
	})
}

// After import with source at identical content, the plan is empty: the
// object's stored SHA-256 and source prove identity.
func TestObjectMultipart_importEmptyPlan(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	src, _ := acctest.WriteSource(t, t.TempDir(), "data.bin", 250*1024, 3)
	key := "import/data.bin"
	seed := srv.providerConfig() + acctest.ObjectBlock("seed", obslocaltest.Bucket, key, src)
	imported := seed + acctest.Block("import",
		acctest.Attr("to", acctest.Expr(resName)),
		acctest.Attr("id", "obs://"+obslocaltest.Bucket+"/"+key),
	) + acctest.ObjectBlock("test", obslocaltest.Bucket, key, src)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{Config: seed},
			{
				Config: imported,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionNoop),
					plancheck.ExpectEmptyPlan(),
				}},
			},
		},
	})
}

// A Create that fails at one part resumes on the next apply: only the
// missing parts are sent, the object is correct, and the plan is then empty.
func TestObjectMultipart_resumeFailedCreate(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	src, sum := acctest.WriteSource(t, t.TempDir(), "data.bin", 10*testPartSize+5000, 4)
	key := "resume/create.bin"
	cfg := testAccObjectMultipartConfig_basic(srv, key, src, 1)
	var missing int64
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		CheckDestroy:             checkNoOpenUploads(srv),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, PartNumber: 6, Status: 500, Code: "InternalError", Times: -1})
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Progress is kept.*Run terraform apply again to resume`),
			},
			{
				PreConfig: func() {
					srv.ClearFaults()
					up := srv.openUploads()
					if len(up) != 1 {
						t.Fatalf("want 1 open upload after the failed create, got %+v", up)
					}
					missing = 10*testPartSize + 5000 - int64(up[0].Parts)*testPartSize
					srv.ResetStats()
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionReplace),
				}},
				Check: resource.ComposeTestCheckFunc(
					checkObject(srv, key, sum),
					checkNoOpenUploads(srv),
					func(*terraform.State) error {
						if got := srv.partBytes(); got != missing {
							return fmt.Errorf("resumed create sent %d part bytes, want exactly the %d missing", got, missing)
						}
						return nil
					},
				),
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
		},
	})
}

// A failed Update keeps the old object and resumes from private state.
func TestObjectMultipart_resumeFailedUpdate(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	src, sum1 := acctest.WriteSource(t, dir, "data.bin", 3*testPartSize, 5)
	key := "resume/update.bin"
	cfg := testAccObjectMultipartConfig_basic(srv, key, src, 1)
	var sum2 string
	var missing int64
	size2 := int64(12*testPartSize + 77)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		CheckDestroy:             checkNoOpenUploads(srv),
		Steps: []resource.TestStep{
			{Config: cfg, Check: checkObject(srv, key, sum1)},
			{
				PreConfig: func() {
					_, sum2 = acctest.WriteSource(t, dir, "data.bin", int(size2), 6)
					srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, PartNumber: 9, Status: 503, Code: "SlowDown", Times: -1})
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`Run terraform apply again to resume`),
				// The old object is intact.
				Check: checkObject(srv, key, sum1),
			},
			{
				PreConfig: func() {
					srv.ClearFaults()
					if got := srv.objectSHA256(key); got != sum1 {
						t.Errorf("failed update changed the object: %s", got)
					}
					up := srv.openUploads()
					if len(up) != 1 {
						t.Fatalf("want 1 open upload after the failed update, got %+v", up)
					}
					// One worker sends parts in order: parts 1..n-1 are full.
					missing = size2 - int64(up[0].Parts)*testPartSize
					srv.ResetStats()
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(
					func(s *terraform.State) error { return checkObject(srv, key, sum2)(s) },
					checkNoOpenUploads(srv),
					func(*terraform.State) error {
						if got := srv.partBytes(); got > missing {
							return fmt.Errorf("resumed update sent %d part bytes, more than the %d missing", got, missing)
						}
						return nil
					},
				),
			},
			{Config: cfg, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		},
	})
}

// Destroy after a failed Create aborts the open upload.
func TestObjectMultipart_destroyAfterFailedCreate(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	src, _ := acctest.WriteSource(t, t.TempDir(), "data.bin", 6*testPartSize, 7)
	key := "destroy/failed.bin"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		CheckDestroy: resource.ComposeTestCheckFunc(checkNoOpenUploads(srv), func(*terraform.State) error {
			if srv.objectSHA256(key) != "" {
				return fmt.Errorf("an object exists after a failed create and destroy")
			}
			return nil
		}),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPart, PartNumber: 4, Status: 400, Code: "InvalidArgument", Times: -1})
				},
				Config:      testAccObjectMultipartConfig_basic(srv, key, src, 1),
				ExpectError: regexp.MustCompile(`InvalidArgument`),
				Check: func(*terraform.State) error {
					if len(srv.openUploads()) != 1 {
						return fmt.Errorf("failed create left no open upload")
					}
					return nil
				},
			},
		},
	})
}

// Deleted out of band → re-created; overwritten out of band → re-uploaded.
func TestObjectMultipart_outOfBand(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	src, sum := acctest.WriteSource(t, t.TempDir(), "data.bin", 2*testPartSize+1, 8)
	key := "oob/data.bin"
	cfg := testAccObjectMultipartConfig_basic(srv, key, src, 2)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{Config: cfg, Check: checkObject(srv, key, sum)},
			{
				PreConfig: func() {
					if err := srv.DeleteObjectData(obslocaltest.Bucket, key); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionCreate),
				}},
				Check: checkObject(srv, key, sum),
			},
			{
				PreConfig: func() {
					if err := srv.PutObjectData(obslocaltest.Bucket, key, []byte("someone else's bytes")); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
				}},
				Check: checkObject(srv, key, sum),
			},
		},
	})
}

// A second plan of an unchanged 1 GiB file does not read the file.
//
// Not parallel, like every test that reads hashedBytes: the counter counts
// the whole process's hashing, so running beside others it would count theirs.
func TestObjectMultipart_secondPlanDoesNotRead(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 1 GiB")
	}
	srv := newTestServer(t)
	src := t.TempDir() + "/big.bin"
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	time.Sleep(fineDoubt + 50*time.Millisecond) // age the timestamps past the doubt window
	cfg := srv.providerConfig() + acctest.ObjectBlock("test", obslocaltest.Bucket, "big.bin", src,
		acctest.Attr("part_size", 64<<20), acctest.Attr("concurrency", 4))
	var before int64
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() { before = hashedBytes.Load() },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				Check: func(*terraform.State) error {
					if n := hashedBytes.Load() - before; n != 0 {
						return fmt.Errorf("plans of an unchanged file read %d bytes to hash it", n)
					}
					return nil
				},
			},
		},
	})
}

// A create hashes the source once: the apply-time re-plan and Create reuse
// the plan's hash through the fingerprint cache instead of reading the file
// again. Not parallel: it reads hashedBytes.
func TestObjectMultipart_createHashesOnce(t *testing.T) {
	srv := newTestServer(t)
	size := 3*testPartSize + 123
	src, sum := acctest.WriteSource(t, t.TempDir(), "once.bin", size, 10)
	// Let the file's timestamps age past the window in which a hash is not
	// trusted (a write in the same clock tick would go unseen).
	time.Sleep(fineDoubt + 50*time.Millisecond)
	before := hashedBytes.Load()
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{{
			Config: testAccObjectMultipartConfig_basic(srv, "once.bin", src, 2),
			Check: resource.ComposeTestCheckFunc(checkObject(srv, "once.bin", sum), func(*terraform.State) error {
				if n := hashedBytes.Load() - before; n != int64(size) {
					return fmt.Errorf("plan and apply read %d bytes to hash a %d-byte file; want it hashed exactly once", n, size)
				}
				return nil
			}),
		}},
	})
}

// An object written by another tool (no SHA-256 of ours) is imported; with
// source at identical content, its ETag proves identity: the apply records
// the source without sending the object again, and the plan is then empty.
func TestObjectMultipart_importForeignObjectProvenByETag(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	src, sum := acctest.WriteSource(t, dir, "foreign.bin", 50*1024, 13)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	key := "foreign.bin"
	if err := srv.PutObjectData(obslocaltest.Bucket, key, data); err != nil {
		t.Fatal(err)
	}
	cfg := srv.providerConfig() + acctest.Block("import",
		acctest.Attr("to", acctest.Expr(resName)),
		acctest.Attr("id", obslocaltest.Bucket+"/"+key),
	) + acctest.ObjectBlock("test", obslocaltest.Bucket, key, src,
		// What OBS gives a PUT without Content-Type.
		acctest.Attr("content_type", "binary/octet-stream"))
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{
				PreConfig: func() { srv.ResetStats() },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(resName, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(resName, tfjsonpath.New("etag"), knownvalue.NotNull()),
				}},
				Check: resource.ComposeTestCheckFunc(checkObject(srv, key, sum), func(*terraform.State) error {
					st := srv.Stats()
					if n := st.Ops[obslocal.OpPutObject].Requests + st.Ops[obslocal.OpUploadPart].Requests; n != 0 {
						return fmt.Errorf("identical foreign object was sent again (%d requests)", n)
					}
					return nil
				}),
			},
			{
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}
