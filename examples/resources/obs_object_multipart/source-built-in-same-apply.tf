# A file that the same apply builds. The build's output is the path: it is
# unknown until the build has run, so the plan leaves size and source_sha256
# unknown and the file is hashed and uploaded once it exists. A literal
# "${path.module}/build/app.zip" would be read at plan and fail with
# "does not exist".
resource "terraform_data" "app_zip" {
  input = "${path.module}/build/app.zip"

  # Build again (and upload the new archive) when a file under src/ changes.
  triggers_replace = [for f in fileset("${path.module}/src", "**") : filesha256("${path.module}/src/${f}")]

  provisioner "local-exec" {
    working_dir = path.module
    command     = "mkdir -p build && rm -f build/app.zip && cd src && zip -qr ../build/app.zip ."
  }
}

resource "obs_object_multipart" "app" {
  bucket = "my-releases"
  key    = "app/app.zip"
  source = terraform_data.app_zip.output
}
