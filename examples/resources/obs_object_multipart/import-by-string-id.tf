import {
  to = obs_object_multipart.disk_image
  id = "my-images/images/ubuntu-24.04.qcow2"
}
