# A copy is imported by the bucket/key (or obs://bucket/key) of the copy.
# The source cannot be read back from it: the first plan after the import
# records the source attributes in an update, which copies nothing when the
# object provably holds the source's bytes.
terraform import obs_object_copy.release my-releases/releases/v1.4/app.tar.zst
