#!/usr/bin/env bash
# Installs versitygw, the independent S3 server the S3-compatibility suite
# (internal/s3compat) runs the provider against, into .cache/bin (git-ignored).
# Idempotent and silent when versitygw is already on PATH or cached.
set -euo pipefail

VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.8.0}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$REPO/.cache/bin"

if command -v versitygw >/dev/null 2>&1 || [ -x "$BIN/versitygw" ]; then
	exit 0
fi

echo "versitygw not found: building $VERSITYGW_VERSION into .cache/bin (~3 min)" >&2
mkdir -p "$BIN"
GOBIN="$BIN" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
