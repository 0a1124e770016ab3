terraform {
  required_providers {
    obs = {
      source  = "obsprovider/obs"
      version = "~> 0.1"
    }
  }
}

# Credentials come from the environment (HW_ACCESS_KEY, HW_SECRET_KEY and, for
# temporary credentials, HW_SECURITY_TOKEN); the endpoint is derived from the
# region: https://obs.cn-north-4.myhuaweicloud.com.
provider "obs" {
  region = "cn-north-4"
}

# An S3-compatible endpoint or a private deployment: an explicit endpoint,
# path-style addressing and AWS SigV4 signatures.
provider "obs" {
  alias      = "s3compat"
  region     = "eu-west-101"
  endpoint   = "https://obs.eu-west-101.myhuaweicloud.eu"
  signature  = "v4"
  path_style = true

  # Budget of part uploads in flight across all objects of this provider,
  # and a cap on the bytes per second they write together (50 MiB/s).
  max_concurrent_parts = 16
  max_bandwidth        = 52428800
  max_retries          = 8
}
