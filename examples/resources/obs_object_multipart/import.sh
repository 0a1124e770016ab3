# An object is imported by bucket/key or obs://bucket/key. The object carries
# the path it was uploaded from and the file's SHA-256 in its metadata, so with
# the same file at that path the plan after an import is empty.
terraform import obs_object_multipart.disk_image my-images/images/ubuntu-24.04.qcow2
terraform import obs_object_multipart.disk_image obs://my-images/images/ubuntu-24.04.qcow2
