# Promote a build: upload it once, then copy it server-side to the release
# bucket. source_etag follows the upload: while the upload changes it is
# unknown, so the plan shows the copy updating too, and the apply copies the
# new object once it is uploaded. No byte of the copy passes through the
# machine running Terraform.
resource "obs_object_multipart" "build" {
  bucket    = "my-builds"
  key       = "builds/123/app.tar.zst"
  source    = "${path.module}/dist/app.tar.zst"
  part_size = 64 * 1024 * 1024
}

resource "obs_object_copy" "release" {
  bucket        = "my-releases"
  key           = "releases/v1.4/app.tar.zst"
  source_bucket = obs_object_multipart.build.bucket
  source_key    = obs_object_multipart.build.key
  source_etag   = obs_object_multipart.build.etag

  # A copy of more than one part is made in parts, 8 at a time.
  part_size   = 64 * 1024 * 1024
  concurrency = 8

  # The copy's own options; content type and metadata come from the source.
  storage_class = "WARM"
  tags = {
    channel = "stable"
  }
}

# An object written elsewhere (another pipeline, another tool), pinned to one
# version of a bucket with versioning: the plan reads its metadata, so a new
# version shows as an update only when source_version_id changes.
resource "obs_object_copy" "golden_image" {
  bucket            = "my-images"
  key               = "golden/ubuntu-24.04.qcow2"
  source_bucket     = "my-images-staging"
  source_key        = "candidates/ubuntu-24.04.qcow2"
  source_version_id = "G001117FCE89978B0000401205D5DC9A"
}
