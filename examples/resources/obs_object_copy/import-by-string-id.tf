import {
  to = obs_object_copy.release
  id = "my-releases/releases/v1.4/app.tar.zst"
}
