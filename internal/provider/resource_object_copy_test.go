package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"

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
	copyName = "obs_object_copy.test"
	srcName  = "obs_object_multipart.src"
)

// testAccObjectCopyConfig_followsUpload uploads source to srcKey and copies
// it to key, following the upload's etag.
func testAccObjectCopyConfig_followsUpload(srv *testServer, srcKey, source, key string, concurrency int) string {
	return srv.providerConfig() +
		acctest.ObjectBlock("src", obslocaltest.Bucket, srcKey, source, acctest.Attr("part_size", testPartSize)) +
		acctest.CopyBlock("test", obslocaltest.Bucket, key, obslocaltest.Bucket, srcKey,
			acctest.Attr("source_etag", acctest.Expr(srcName+".etag")),
			acctest.Attr("part_size", testPartSize), acctest.Attr("concurrency", concurrency))
}

// testAccObjectCopyConfig_basic copies srcKey to key, reading the source at
// plan.
func testAccObjectCopyConfig_basic(srv *testServer, srcKey, key string, args ...acctest.Arg) string {
	return srv.providerConfig() + acctest.CopyBlock("test", obslocaltest.Bucket, key, obslocaltest.Bucket, srcKey, args...)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// checkCopiedServerSide asserts that no object data went through the client
// in copy requests, and that parts part copies were made.
func checkCopiedServerSide(srv *testServer, parts int64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		st := srv.Stats().Ops
		if st[obslocal.OpUploadPartCopy].BodyBytes != 0 || st[obslocal.OpCopyObject].BodyBytes != 0 {
			return fmt.Errorf("copy requests carried bodies: %+v, %+v", st[obslocal.OpUploadPartCopy], st[obslocal.OpCopyObject])
		}
		if n := st[obslocal.OpUploadPartCopy].Requests; n != parts {
			return fmt.Errorf("%d part copies, want %d", n, parts)
		}
		return nil
	}
}

// Upload and copy in one configuration: create → empty plan → the file
// changes, both update → a transfer setting changes, nothing is copied →
// import → destroy.
func TestObjectCopy_lifecycle(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	src, sum1 := acctest.WriteSource(t, dir, "data.bin", 350*1024, 21)
	var sum2 string
	srcKey, key := "builds/1/data.bin", "releases/data.bin"
	etag := statecheck.CompareValue(compare.ValuesSame())
	sameAsSource := statecheck.CompareValuePairs(srcName, tfjsonpath.New("etag"), copyName, tfjsonpath.New("etag"), compare.ValuesSame())

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		CheckDestroy: func(*terraform.State) error {
			if srv.objectSHA256(key) != "" || srv.objectSHA256(srcKey) != "" {
				return fmt.Errorf("objects left after destroy")
			}
			return checkNoOpenUploads(srv)(nil)
		},
		Steps: []resource.TestStep{
			{
				Config: testAccObjectCopyConfig_followsUpload(srv, srcKey, src, key, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(copyName, plancheck.ResourceActionCreate),
					plancheck.ExpectUnknownValue(copyName, tfjsonpath.New("source_etag")),
					plancheck.ExpectUnknownValue(copyName, tfjsonpath.New("size")),
					plancheck.ExpectUnknownValue(copyName, tfjsonpath.New("etag")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(copyName, tfjsonpath.New("id"), knownvalue.StringExact(obslocaltest.Bucket+"/"+key)),
					statecheck.ExpectKnownValue(copyName, tfjsonpath.New("size"), knownvalue.Int64Exact(350*1024)),
					statecheck.ExpectKnownValue(copyName, tfjsonpath.New("source_sha256"), knownvalue.StringExact(sum1)),
					statecheck.ExpectKnownValue(copyName, tfjsonpath.New("part_count"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(copyName, tfjsonpath.New("source_version_id"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue(copyName, tfjsonpath.New("content_type"), knownvalue.StringExact("application/octet-stream")),
					statecheck.CompareValuePairs(srcName, tfjsonpath.New("etag"), copyName, tfjsonpath.New("source_etag"), compare.ValuesSame()),
					// Parts of the source's size: the copy has its ETag.
					sameAsSource,
					etag.AddStateValue(copyName, tfjsonpath.New("etag")),
				},
				Check: resource.ComposeTestCheckFunc(checkObject(srv, key, sum1), checkNoOpenUploads(srv), checkCopiedServerSide(srv, 4),
					func(*terraform.State) error {
						if n := srv.partBytes(); n != 350*1024 {
							return fmt.Errorf("%d part bytes sent, want only the upload's %d", n, 350*1024)
						}
						_, info, err := srv.ObjectSHA256(obslocaltest.Bucket, key)
						if err != nil || info.Metadata[metaSHA256] != sum1 || info.Metadata[metaSource] != "" {
							return fmt.Errorf("copy metadata %v (%v): want %s=%s and no %s", info.Metadata, err, metaSHA256, sum1, metaSource)
						}
						return nil
					}),
			},
			{
				PreConfig: func() { srv.ResetStats() },
				Config:    testAccObjectCopyConfig_followsUpload(srv, srcKey, src, key, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{etag.AddStateValue(copyName, tfjsonpath.New("etag"))},
				Check:             checkCopiedServerSide(srv, 0),
			},
			{
				PreConfig: func() {
					_, sum2 = acctest.WriteSource(t, dir, "data.bin", 420*1024, 22)
					srv.ResetStats()
				},
				Config: testAccObjectCopyConfig_followsUpload(srv, srcKey, src, key, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(srcName, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(copyName, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(copyName, tfjsonpath.New("source_etag")),
					plancheck.ExpectUnknownValue(copyName, tfjsonpath.New("etag")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{sameAsSource},
				Check: func(s *terraform.State) error {
					return resource.ComposeTestCheckFunc(checkObject(srv, key, sum2), checkCopiedServerSide(srv, 5), checkNoOpenUploads(srv))(s)
				},
			},
			{
				// A transfer setting only: an update that copies nothing.
				PreConfig: func() { srv.ResetStats() },
				Config:    testAccObjectCopyConfig_followsUpload(srv, srcKey, src, key, 3),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(copyName, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(copyName, tfjsonpath.New("etag"), knownvalue.NotNull()),
				}},
				Check: func(*terraform.State) error {
					if n := srv.Stats().Ops[obslocal.OpUploadPartCopy].Requests + srv.Stats().Ops[obslocal.OpCopyObject].Requests; n != 0 {
						return fmt.Errorf("a transfer-setting change made %d copy requests", n)
					}
					return nil
				},
			},
			{
				ResourceName:      copyName,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(*terraform.State) (string, error) { return obslocaltest.Bucket + "/" + key, nil },
				// The source cannot be read back from the copy.
				ImportStateVerifyIgnore: []string{"source_bucket", "source_key", "source_etag", "source_version_id",
					"part_size", "concurrency", "timeouts", "effective_part_size"},
			},
		},
	})
}

// A source written outside the configuration is read at plan: its
// content type, metadata and content hash are copied, a small one in a
// single request; a changed source is an in-place update with the new ETag
// in the plan; a deleted one a plan error on source_key.
func TestObjectCopy_readsSourceAtPlan(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	src, sum := acctest.WriteSource(t, dir, "data.bin", 250*1024, 23)
	srcKey, key := "staging/app.bin", "releases/app.bin"
	upload := srv.providerConfig() + acctest.ObjectBlock("src", obslocaltest.Bucket, srcKey, src,
		acctest.Attr("content_type", "application/x-app"), acctest.Attr("metadata", map[string]string{"owner": "ci"}))
	second := []byte("the second build, written by another pipeline")
	var secondETag string

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{Config: upload},
			{
				PreConfig: func() { srv.ResetStats() },
				Config:    upload + acctest.CopyBlock("test", obslocaltest.Bucket, key, obslocaltest.Bucket, srcKey),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(copyName, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(copyName, tfjsonpath.New("size"), knownvalue.Int64Exact(250*1024)),
					plancheck.ExpectKnownValue(copyName, tfjsonpath.New("source_sha256"), knownvalue.StringExact(sum)),
					plancheck.ExpectKnownValue(copyName, tfjsonpath.New("content_type"), knownvalue.StringExact("application/x-app")),
					plancheck.ExpectKnownValue(copyName, tfjsonpath.New("metadata"), knownvalue.MapExact(map[string]knownvalue.Check{"owner": knownvalue.StringExact("ci")})),
					plancheck.ExpectKnownValue(copyName, tfjsonpath.New("part_count"), knownvalue.Int64Exact(0)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs(srcName, tfjsonpath.New("etag"), copyName, tfjsonpath.New("source_etag"), compare.ValuesSame()),
					statecheck.CompareValuePairs(srcName, tfjsonpath.New("etag"), copyName, tfjsonpath.New("etag"), compare.ValuesSame()),
				},
				Check: resource.ComposeTestCheckFunc(checkObject(srv, key, sum), checkCopiedServerSide(srv, 0), func(*terraform.State) error {
					if n := srv.Stats().Ops[obslocal.OpCopyObject].Requests; n != 1 {
						return fmt.Errorf("%d CopyObject requests, want 1", n)
					}
					_, info, err := srv.ObjectSHA256(obslocaltest.Bucket, key)
					if err != nil || info.Metadata["owner"] != "ci" || info.Headers.Get("Content-Type") != "application/x-app" {
						return fmt.Errorf("copy info %+v (%v)", info, err)
					}
					return nil
				}),
			},
			{
				// The source is replaced outside Terraform (the upload
				// resource goes, the object stays): the plan shows the copy
				// updating to the new ETag.
				PreConfig: func() {
					if err := srv.PutObjectData(obslocaltest.Bucket, srcKey, second); err != nil {
						t.Fatal(err)
					}
					_, info, _ := srv.ObjectSHA256(obslocaltest.Bucket, srcKey)
					secondETag = strings.Trim(info.ETag, `"`)
				},
				Config: srv.providerConfig() + acctest.CopyBlock("test", obslocaltest.Bucket, key, obslocaltest.Bucket, srcKey),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(copyName, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(copyName, tfjsonpath.New("size"), knownvalue.Int64Exact(int64(len(second)))),
					plancheck.ExpectKnownValue(copyName, tfjsonpath.New("source_sha256"), knownvalue.Null()),
					plancheck.ExpectUnknownValue(copyName, tfjsonpath.New("etag")),
				}},
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources[copyName].Primary.Attributes["source_etag"]; got != secondETag {
						return fmt.Errorf("source_etag %s, want %s", got, secondETag)
					}
					return checkObject(srv, key, sha256Hex(second))(s)
				},
			},
			{
				PreConfig: func() {
					if err := srv.DeleteObjectData(obslocaltest.Bucket, srcKey); err != nil {
						t.Fatal(err)
					}
				},
				Config:      srv.providerConfig() + acctest.CopyBlock("test", obslocaltest.Bucket, key, obslocaltest.Bucket, srcKey),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Source object not found.*source_etag`),
			},
		},
	})
}

// A known source_etag that the source does not have is a plan error on
// source_etag; a missing source is one on source_key.
func TestObjectCopy_planErrors(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	if err := srv.PutObjectData(obslocaltest.Bucket, "src/a.bin", []byte("abc")); err != nil {
		t.Fatal(err)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{
				Config:      testAccObjectCopyConfig_basic(srv, "src/a.bin", "dst/a.bin", acctest.Attr("source_etag", "0123456789abcdef0123456789abcdef")),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)The source object has another ETag.*source_etag`),
			},
			{
				Config:      testAccObjectCopyConfig_basic(srv, "src/missing.bin", "dst/a.bin"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Source object not found.*src/missing\.bin`),
			},
			{
				Config:      testAccObjectCopyConfig_basic(srv, "src/a.bin", "src/a.bin"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)An object cannot be copied onto itself`),
			},
			{
				Config:      testAccObjectCopyConfig_basic(srv, "src/a.bin", "dst/a.bin", acctest.Attr("source_sse_c_key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)SSE-C needs HTTPS.*source_sse_c_key`),
			},
		},
	})
}

// The copy replaced or deleted outside Terraform is drift: the next plan
// copies again.
func TestObjectCopy_destinationDrift(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	data := []byte(strings.Repeat("release bytes ", 1000))
	if err := srv.PutObjectData(obslocaltest.Bucket, "src/r.bin", data); err != nil {
		t.Fatal(err)
	}
	cfg := testAccObjectCopyConfig_basic(srv, "src/r.bin", "dst/r.bin")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{Config: cfg, Check: checkObject(srv, "dst/r.bin", sha256Hex(data))},
			{
				PreConfig: func() {
					if err := srv.PutObjectData(obslocaltest.Bucket, "dst/r.bin", []byte(strings.Repeat("other bytes!!!", 1000))); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(copyName, plancheck.ResourceActionUpdate),
				}},
				Check: checkObject(srv, "dst/r.bin", sha256Hex(data)),
			},
			{
				PreConfig: func() {
					if err := srv.DeleteObjectData(obslocaltest.Bucket, "dst/r.bin"); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(copyName, plancheck.ResourceActionCreate),
				}},
				Check: checkObject(srv, "dst/r.bin", sha256Hex(data)),
			},
		},
	})
}

// A create that fails at one part copy resumes on the next apply (from the
// journal: a create gets no private state): only the missing parts are
// copied, into the same upload. Destroy after a failed create aborts it.
func TestObjectCopy_resumeFailedCreate(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	const size = 10*testPartSize + 5000
	src, sum := acctest.WriteSource(t, t.TempDir(), "src.bin", size, 24)
	seed := srv.providerConfig() + acctest.ObjectBlock("src", obslocaltest.Bucket, "src/big.bin", src, acctest.Attr("part_size", testPartSize))
	cfg := seed + acctest.CopyBlock("test", obslocaltest.Bucket, "dst/big.bin", obslocaltest.Bucket, "src/big.bin",
		acctest.Attr("part_size", testPartSize), acctest.Attr("concurrency", 1))
	var missing int64
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		CheckDestroy:             checkNoOpenUploads(srv),
		Steps: []resource.TestStep{
			{Config: seed},
			{
				PreConfig: func() {
					srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPartCopy, PartNumber: 6, Status: 500, Code: "InternalError", Times: -1})
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Progress is kept: upload \S+ has 5 part\(s\).*copied in OBS.*only\s+the\s+missing\s+parts\s+will\s+be\s+copied`),
			},
			{
				PreConfig: func() {
					srv.ClearFaults()
					ups := srv.openUploads()
					if len(ups) != 1 || ups[0].Parts != 5 {
						t.Fatalf("want 1 open upload of 5 parts after the failed create, got %+v", ups)
					}
					missing = 11 - int64(ups[0].Parts)
					srv.ResetStats()
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(copyName, plancheck.ResourceActionReplace),
				}},
				Check: resource.ComposeTestCheckFunc(checkObject(srv, "dst/big.bin", sum), checkNoOpenUploads(srv),
					func(s *terraform.State) error {
						if n := srv.Stats().Ops[obslocal.OpInitiateMultipartUpload].Requests; n != 0 {
							return fmt.Errorf("the resumed copy initiated %d upload(s)", n)
						}
						return checkCopiedServerSide(srv, missing)(s)
					}),
			},
			{
				// A failed create again, then destroy: the upload is aborted.
				PreConfig: func() {
					srv.Inject(obslocal.Fault{Op: obslocal.OpUploadPartCopy, PartNumber: 3, Status: 403, Code: "AccessDenied", Times: -1})
				},
				Config: seed + acctest.CopyBlock("test", obslocaltest.Bucket, "dst/other.bin", obslocaltest.Bucket, "src/big.bin",
					acctest.Attr("part_size", testPartSize), acctest.Attr("concurrency", 1)),
				ExpectError: regexp.MustCompile(`AccessDenied`),
			},
		},
	})
}

// A copy of more than 5 GiB (a sparse source of zeros, so that no 5 GiB
// move): never a CopyObject, which OBS refuses above 5 GB, but parts of
// the layout copied server-side; in the source's part size, the copy has
// the source's ETag.
func TestObjectCopy_over5GiB(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	const gib = 1 << 30
	const size = 5*gib + 1<<20 + 3
	info, err := srv.PutSparseObject(obslocal.SparseObject{Bucket: obslocaltest.Bucket, Key: "images/disk.raw", Size: size, PartSize: gib})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetStats()
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		CheckDestroy:             checkNoOpenUploads(srv),
		Steps: []resource.TestStep{{
			Config: testAccObjectCopyConfig_basic(srv, "images/disk.raw", "releases/disk.raw",
				acctest.Attr("part_size", gib), acctest.Attr("concurrency", 6)),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectKnownValue(copyName, tfjsonpath.New("size"), knownvalue.Int64Exact(size)),
				plancheck.ExpectKnownValue(copyName, tfjsonpath.New("part_count"), knownvalue.Int64Exact(6)),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(copyName, tfjsonpath.New("etag"), knownvalue.StringExact(strings.Trim(info.ETag, `"`))),
				statecheck.ExpectKnownValue(copyName, tfjsonpath.New("effective_part_size"), knownvalue.Int64Exact(gib)),
			},
			Check: resource.ComposeTestCheckFunc(checkCopiedServerSide(srv, 6), checkNoOpenUploads(srv), func(*terraform.State) error {
				st := srv.Stats().Ops
				if st[obslocal.OpCopyObject].Requests != 0 || st[obslocal.OpUploadPartCopy].CopiedBytes != size {
					return fmt.Errorf("CopyObject %+v, UploadPartCopy %+v", st[obslocal.OpCopyObject], st[obslocal.OpUploadPartCopy])
				}
				if srv.partBytes() != 0 || st[obslocal.OpPutObject].BodyBytes != 0 {
					return fmt.Errorf("object bytes went through the client")
				}
				return nil
			}),
		}},
	})
}

// After an import the source is not known; with the configuration's source
// holding the same bytes (the content hash the copy carries), the plan is an
// update that records the source and copies nothing.
func TestObjectCopy_importPlan(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	src, srcSum := acctest.WriteSource(t, t.TempDir(), "src.bin", 250*1024, 25)
	seed := srv.providerConfig() + acctest.ObjectBlock("src", obslocaltest.Bucket, "src/i.bin", src, acctest.Attr("part_size", testPartSize)) +
		acctest.CopyBlock("seed", obslocaltest.Bucket, "dst/i.bin", obslocaltest.Bucket, "src/i.bin",
			acctest.Attr("source_etag", acctest.Expr(srcName+".etag")), acctest.Attr("part_size", testPartSize))
	// The seed is forgotten as the copy is imported, so that one resource
	// writes the key.
	imported := srv.providerConfig() + acctest.ObjectBlock("src", obslocaltest.Bucket, "src/i.bin", src, acctest.Attr("part_size", testPartSize)) +
		acctest.Block("removed", acctest.Attr("from", acctest.Expr("obs_object_copy.seed")), acctest.Raw("lifecycle {\n  destroy = false\n}")) +
		acctest.Block("import", acctest.Attr("to", acctest.Expr(copyName)), acctest.Attr("id", obslocaltest.Bucket+"/dst/i.bin")) +
		acctest.CopyBlock("test", obslocaltest.Bucket, "dst/i.bin", obslocaltest.Bucket, "src/i.bin",
			acctest.Attr("source_etag", acctest.Expr(srcName+".etag")), acctest.Attr("part_size", testPartSize))
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: srv.providerFactories(),
		Steps: []resource.TestStep{
			{Config: seed},
			{
				PreConfig: func() { srv.ResetStats() },
				Config:    imported,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(copyName, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(copyName, tfjsonpath.New("etag"), knownvalue.NotNull()),
					plancheck.ExpectKnownValue(copyName, tfjsonpath.New("source_key"), knownvalue.StringExact("src/i.bin")),
				}},
				Check: checkCopiedServerSide(srv, 0),
			},
			{
				Config:           imported,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// The object the import proved is now the resource's own: a
				// foreign write of the same size is drift.
				PreConfig: func() {
					if err := srv.PutObjectData(obslocaltest.Bucket, "dst/i.bin", make([]byte, 250*1024)); err != nil {
						t.Fatal(err)
					}
				},
				Config: imported,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(copyName, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(copyName, tfjsonpath.New("etag")),
				}},
				Check: checkObject(srv, "dst/i.bin", srcSum),
			},
		},
	})
}
