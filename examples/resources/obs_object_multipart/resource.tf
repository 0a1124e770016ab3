# A large file: uploaded in parts of 64 MiB, 8 at a time. The plan hashes the
# file, so it shows an update only when the content really changed; an
# interrupted apply is resumed by the next one.
resource "obs_object_multipart" "disk_image" {
  bucket      = "my-images"
  key         = "images/ubuntu-24.04.qcow2"
  source      = "${path.module}/build/ubuntu-24.04.qcow2"
  part_size   = 64 * 1024 * 1024
  concurrency = 8

  timeouts = {
    create = "24h"
    update = "24h"
  }
}

# Object options: storage class, metadata, tags and SSE-KMS encryption.
resource "obs_object_multipart" "backup" {
  bucket        = "my-backups"
  key           = "db/2025-01-31.tar.zst"
  source        = "/var/backups/db/2025-01-31.tar.zst"
  content_type  = "application/zstd"
  storage_class = "WARM"

  metadata = {
    origin = "pg-primary"
  }
  tags = {
    retention = "90d"
  }

  server_side_encryption = "kms"
}

output "disk_image_sha256" {
  value = obs_object_multipart.disk_image.source_sha256
}
