// Package s3compat holds the S3-compatibility suite: tests that run the obs
// provider, signing with SigV4 and path-style addressing, against versitygw,
// an independent S3 server nobody on this project wrote, with a
// fault-injecting TCP proxy in front of it. It has no non-test code.
//
// The suite needs the versitygw binary on PATH or in .cache/bin (make
// versitygw installs it). Without it the tests skip, or fail when
// OBS_REQUIRE_VERSITYGW=1 (as make test sets).
package s3compat
