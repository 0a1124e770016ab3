#!/usr/bin/env bash
# scripts/demo.sh — what `make demo` runs. A short story in five acts:
#
#   1. build the provider and the local OBS server (cmd/obslocal), start the server on a free loopback port;
#   2. upload a sample file (default 1 GiB; DEMO_SIZE=64M for a quick run) with `terraform apply`;
#   3. change the file, slow the server down, and interrupt the second upload part-way with SIGINT;
#   4. apply again: the upload resumes and sends only the missing parts (the server's counters prove it);
#   5. `terraform plan -detailed-exitcode` is empty.
#
# Everything lives in one temporary directory that is removed on exit, with the server and any terraform
# still running; that includes the provider's hash cache and upload journal (XDG_CACHE_HOME points there). Needs go and terraform (`make demo` builds terraform into .cache/bin when it is absent),
# bash, awk and coreutils. No network beyond the Go module proxy; nothing leaves the machine.
#
# Knobs: DEMO_SIZE (bytes, or with a K/M/G suffix, binary units; default 1G), DEMO_PART_SIZE (default 16M),
# DEMO_CONCURRENCY (default 4), DEMO_KEEP=1 keeps the temporary directory for inspection.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$ROOT/.cache/bin:$PATH"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export TF_CLI_CONFIG_FILE=/dev/null # until the demo's own CLI configuration is written
unset TF_LOG TF_LOG_PATH TF_LOG_PROVIDER

BUCKET=demo-bucket
KEY=datasets/sample.bin
AK=demo-access-key
SK=demo-secret-key

if [ -t 1 ]; then B=$'\033[1m' D=$'\033[2m' G=$'\033[32m' R=$'\033[31m' N=$'\033[0m'; else B='' D='' G='' R='' N=''; fi
say()   { printf '\n%s%s%s\n' "$B" "$*" "$N"; }
line()  { printf '  %s\n' "$*"; }
quote() { sed "s/^/    ${D}│${N} /"; }
die()   { printf '\n%sdemo failed: %s%s\n' "$R" "$*" "$N" >&2; exit 1; }

# to_bytes 64M → 67108864 (K, M, G, T are binary units).
to_bytes() {
	local v
	v=$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')
	v=${v%IB}; v=${v%B}
	case $v in
	*K) echo $((${v%K} * 1024)) ;;
	*M) echo $((${v%M} * 1024 * 1024)) ;;
	*G) echo $((${v%G} * 1024 * 1024 * 1024)) ;;
	*T) echo $((${v%T} * 1024 * 1024 * 1024 * 1024)) ;;
	*[!0-9]* | '') die "cannot read size '$1' (use e.g. 64M or 1G)" ;;
	*) echo "$v" ;;
	esac
}
# human 1073741824 → "1.0 GiB".
human() { awk -v n="$1" 'BEGIN { split("B KiB MiB GiB TiB", u, " "); i = 1; while (n >= 1024 && i < 5) { n /= 1024; i++ }
	printf (i == 1 ? "%d %s" : "%.1f %s"), n, u[i] }'; }
now() { local t; t=$(date +%s.%N); case $t in *N) date +%s ;; *) echo "$t" ;; esac; } # %N: GNU date only
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
mbps() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", n / s / 1e6 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? a * 100 / b : 0) }'; }

SIZE=$(to_bytes "${DEMO_SIZE:-1G}")
# 16 MiB parts; smaller for a small file so that it has at least 16 parts (4 waves of 4).
if [ -n "${DEMO_PART_SIZE:-}" ]; then
	PART=$(to_bytes "$DEMO_PART_SIZE")
else
	PART=$((16 * 1024 * 1024))
	while [ $((SIZE / PART)) -lt 16 ] && [ "$PART" -gt 1048576 ]; do PART=$((PART / 2)); done
fi
CONC=${DEMO_CONCURRENCY:-4}
PARTS=$(((SIZE + PART - 1) / PART))
[ "$PARTS" -gt "$CONC" ] || die "DEMO_SIZE must make more than $CONC parts of $(human "$PART") for the interruption to make sense"

command -v go >/dev/null || die "go is required (https://go.dev/dl/)"
if ! command -v terraform >/dev/null; then
	make -C "$ROOT" --no-print-directory terraform
	command -v terraform >/dev/null || die "terraform is still not on PATH"
fi

# ---------------------------------------------------------------------------------------------------------
# Everything the demo starts is registered here and undone on exit, whatever happens.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/obs-demo.XXXXXX")
SERVER_PID='' TF_PID=''
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$TF_PID" ] && kill -0 "$TF_PID" 2>/dev/null; then
		kill -INT "$TF_PID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$TF_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$TF_PID" 2>/dev/null || true
		wait "$TF_PID" 2>/dev/null || true
	fi
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [ "${DEMO_KEEP:-}" = 1 ]; then
		printf '\nkept %s (DEMO_KEEP=1)\n' "$WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/bin" "$WORK/data" "$WORK/obs-data" "$WORK/tf"

# The admin endpoint of the local server, over bash's /dev/tcp (no curl needed). Sets REPLY to the body.
admin() { # METHOD PATH [JSON]
	local body=${3:-} resp
	exec 3<>"/dev/tcp/$HOST/$PORT" || die "cannot reach obslocal at $HOST:$PORT"
	printf '%s %s HTTP/1.0\r\nHost: %s:%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
		"$1" "$2" "$HOST" "$PORT" "${#body}" "$body" >&3
	resp=$(cat <&3)
	exec 3<&-
	case ${resp%%$'\r'*} in
	*" 200 "* | *" 204 "*) ;;
	*) die "obslocal admin $1 $2: ${resp%%$'\r'*}" ;;
	esac
	REPLY=${resp#*$'\r\n\r\n'}
}
# counter OP FIELD: one counter from GET /__obslocal/stats (Requests, Errors or BodyBytes); counter ConcurrentParts.
counter() {
	admin GET /__obslocal/stats
	local flat v
	flat=$(printf '%s' "$REPLY" | tr -d ' \n')
	if [ $# = 1 ]; then
		v=$(printf '%s' "$flat" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p")
	else
		v=$(printf '%s' "$flat" | sed -n "s/.*\"$1\":{\([^}]*\)}.*/\1/p" | tr ',' '\n' | sed -n "s/^\"$2\"://p")
	fi
	echo "${v:-0}"
}
# completed_parts: UploadPart requests answered with success (started − failed − in flight).
completed_parts() { echo $(($(counter UploadPart Requests) - $(counter UploadPart Errors) - $(counter ConcurrentParts))); }

# tf LOGNAME ARGS…: run terraform in the demo folder, progress logs (TF_LOG=INFO) to LOGNAME.log.
tf() {
	local name=$1
	shift
	(cd "$WORK/tf" && TF_LOG=INFO TF_LOG_PATH="$WORK/$name.log" terraform "$@" -no-color >"$WORK/$name.out" 2>&1)
}
# progress LOGNAME: the provider's progress lines ("uploading …: 42.0% …") from a TF_LOG=INFO log.
progress() { grep -o 'uploading [^ ]*: [0-9.]*% .*ETA [0-9hms]*' "$WORK/$1.log" || true; }
# para FILE REGEX: the paragraphs of terraform's output that start with a line matching REGEX, unwrapped.
para() {
	awk -v re="$2" '
		/^[[:space:]]*$/ { if (p != "") print p; p = ""; on = 0; next }
		on { sub(/^[[:space:]]+/, ""); p = p " " $0; next }
		$0 ~ re { on = 1; sub(/^[[:space:]]+/, ""); p = $0 }
		END { if (p != "") print p }' "$1"
}
show_failure() { cat "$WORK/$1.out" >&2; die "$2"; }

# ---------------------------------------------------------------------------------------------------------
say "Act 1 — build the provider and start a local OBS server"
t0=$(now)
(cd "$ROOT" && go build -trimpath -ldflags "-X main.version=demo" -o "$WORK/bin/terraform-provider-obs" . &&
	go build -trimpath -o "$WORK/bin/obslocal" ./cmd/obslocal)
line "built terraform-provider-obs and obslocal in $(elapsed "$t0" "$(now)") s ($(go env GOVERSION), $(terraform version | head -1))"

# The provider keeps a hash cache and an upload journal in the user's cache directory (Go's os.UserCacheDir:
# $XDG_CACHE_HOME, else ~/.cache; ~/Library/Caches on macOS). Point it into the demo's folder, so that the demo
# leaves nothing behind. Only now, after the builds: Go's own build cache lives there too.
mkdir -p "$WORK/cache"
export XDG_CACHE_HOME="$WORK/cache"
[ "$(uname -s)" != Darwin ] || export HOME="$WORK/cache/home" # macOS ignores XDG_CACHE_HOME
line "the provider's hash cache and upload journal go to $WORK/cache (XDG_CACHE_HOME), not to your cache directory"

"$WORK/bin/obslocal" -listen 127.0.0.1:0 -data "$WORK/obs-data" -access-key "$AK" -secret-key "$SK" \
	-bucket "$BUCKET" >"$WORK/obslocal.out" 2>"$WORK/obslocal.err" &
SERVER_PID=$!
for _ in $(seq 100); do
	grep -q '^obslocal listening on ' "$WORK/obslocal.out" 2>/dev/null && break
	kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/obslocal.err" >&2; die "obslocal did not start"; }
	sleep 0.1
done
ENDPOINT=$(sed -n 's/^obslocal listening on //p' "$WORK/obslocal.out")
[ -n "$ENDPOINT" ] || die "obslocal did not report its address"
HOSTPORT=${ENDPOINT#http://}
HOST=${HOSTPORT%:*} PORT=${HOSTPORT##*:}
line "obslocal listens on $ENDPOINT with bucket '$BUCKET' (pid $SERVER_PID, data in a temporary directory)"

# Terraform uses the provider we just built, without a registry or `terraform init`.
cat >"$WORK/terraformrc" <<EOF
provider_installation {
  dev_overrides {
    "obsprovider/obs" = "$WORK/bin"
  }
  direct {}
}
EOF
export TF_CLI_CONFIG_FILE="$WORK/terraformrc"

SRC="$WORK/data/sample.bin"
cat >"$WORK/tf/main.tf" <<EOF
terraform {
  required_providers {
    obs = { source = "obsprovider/obs" }
  }
}

provider "obs" {
  endpoint   = "$ENDPOINT"
  path_style = true
  region     = "cn-north-4" # the SigV4 credential scope; obslocal accepts any
  signature  = "v4"         # path-style requests to an IP address: S3-compatible SigV4
  access_key = "$AK"
  secret_key = "$SK"
}

resource "obs_object_multipart" "sample" {
  bucket      = "$BUCKET"
  key         = "$KEY"
  source      = "$SRC"
  part_size   = $PART
  concurrency = $CONC
}
EOF
line "configuration: $(human "$SIZE") in $PARTS parts of $(human "$PART"), $CONC at a time"

# ---------------------------------------------------------------------------------------------------------
say "Act 2 — upload $(human "$SIZE")"
t0=$(now)
head -c "$SIZE" /dev/urandom >"$SRC"
line "wrote a sample file of $(human "$SIZE") in $(elapsed "$t0" "$(now)") s"

admin POST /__obslocal/stats/reset
t0=$(now)
tf apply1 apply -auto-approve || show_failure apply1 "the first apply failed"
secs=$(elapsed "$t0" "$(now)")
sent1=$(counter UploadPart BodyBytes)
parts1=$(counter UploadPart Requests)
line "terraform apply: $(grep -m1 '^Apply complete' "$WORK/apply1.out")"
progress apply1 | tail -n 3 | quote
line "${G}uploaded $(human "$SIZE") in $secs s ($(mbps "$SIZE" "$secs") MB/s, hashing at plan included): $parts1 parts, $(human "$sent1") on the wire${N}"

tf plan1 plan -detailed-exitcode && rc=0 || rc=$?
[ "$rc" = 0 ] || show_failure plan1 "plan after the first apply is not empty (exit $rc)"
line "terraform plan -detailed-exitcode → 0: $(grep -m1 'No changes' "$WORK/plan1.out")"

# ---------------------------------------------------------------------------------------------------------
say "Act 3 — the file changes; the second upload is interrupted"
dd if=/dev/urandom of="$SRC" bs=1M count=1 seek=$((SIZE / 2 / 1048576)) conv=notrunc 2>/dev/null
line "overwrote 1 MiB in the middle of the file: the new content needs a new upload of all $PARTS parts"

# Slow every part down so that the upload takes ~20 s, then press Ctrl-C once ~40 % of the parts are in.
bps=$((SIZE / CONC / 20))
[ "$bps" -ge 65536 ] || bps=65536
admin POST /__obslocal/stats/reset
admin POST /__obslocal/faults "{\"Op\":\"UploadPart\",\"Times\":-1,\"BytesPerSecond\":$bps}"
line "obslocal now reads each part at $(human "$bps")/s (fault injected through POST /__obslocal/faults)"

t0=$(now)
(cd "$WORK/tf" && exec env TF_LOG=INFO TF_LOG_PATH="$WORK/apply2.log" terraform apply -auto-approve -no-color \
	>"$WORK/apply2.out" 2>&1) &
TF_PID=$!
target=$((PARTS * 40 / 100))
while :; do
	kill -0 "$TF_PID" 2>/dev/null || break
	[ "$(completed_parts)" -ge "$target" ] && break
	sleep 0.2
done
kill -0 "$TF_PID" 2>/dev/null || show_failure apply2 "the second apply ended before it could be interrupted"
done2=$(completed_parts)
got=$(counter UploadPart BodyBytes)
line "after $(elapsed "$t0" "$(now)") s the server holds $done2 of $PARTS parts and has received $(human "$got") in all: Ctrl-C (SIGINT to terraform)"
kill -INT "$TF_PID"
rc=0
wait "$TF_PID" || rc=$?
TF_PID=''
[ "$rc" != 0 ] || show_failure apply2 "the interrupted apply exited 0"
line "terraform stopped $(elapsed "$t0" "$(now)") s after it started (exit $rc), and said:"
{ grep -m1 'Interrupt received' "$WORK/apply2.out"; para "$WORK/apply2.out" '^Error: Uploading'; para "$WORK/apply2.out" '^Progress is kept'; } | quote
admin DELETE /__obslocal/faults
# Parts cut off by the interruption may still be draining from socket buffers; let them finish being counted.
for _ in $(seq 300); do [ "$(counter ConcurrentParts)" = 0 ] && break; sleep 0.1; done
wasted=$(counter UploadPart BodyBytes)
kept=$(completed_parts)
line "the server is fast again (DELETE /__obslocal/faults); once the cut-off requests drained it holds $kept complete parts"
[ "$kept" = "$done2" ] || line "(bytes already in socket buffers completed $((kept - done2)) more parts after terraform gave up on them: resume asks the server, not the record)"

# ---------------------------------------------------------------------------------------------------------
say "Act 4 — apply again: the upload resumes"
admin POST /__obslocal/stats/reset
t0=$(now)
tf apply3 apply -auto-approve || show_failure apply3 "the resuming apply failed"
secs=$(elapsed "$t0" "$(now)")
sent3=$(counter UploadPart BodyBytes)
parts3=$(counter UploadPart Requests)
initiated=$(counter InitiateMultipartUpload Requests)
deleted=$(counter DeleteObject Requests)
aborted=$(counter AbortMultipartUpload Requests)
line "the refresh found the open upload, and the upload adopted it:"
{ para "$WORK/apply3.out" '^Resuming upload'; para "$WORK/apply3.out" '^resuming upload'; } | quote
line "terraform apply: $(grep -m1 '^Apply complete' "$WORK/apply3.out")"
[ "$initiated" = 0 ] || die "the resumed apply started a new upload instead of resuming"
[ "$sent3" -lt "$SIZE" ] || die "the resumed apply sent $(human "$sent3"), not less than the file"
line "${G}resumed: sent the $parts3 missing parts of $PARTS, $(human "$sent3") of $(human "$SIZE") ($(pct "$sent3" "$SIZE") %), in $secs s ($(mbps "$sent3" "$secs") MB/s); no new upload was started${N}"
line "nothing was deleted or aborted on the way ($deleted DeleteObject, $aborted AbortMultipartUpload requests)"
line "${D}Had the interrupted upload been the first one (a create), Terraform would have marked the resource tainted:"
line "the next plan says 'is tainted, so must be replaced' and the apply prints 'Destroying...' before 'Creating...'."
line "That destroys nothing either: no object was written yet, and the open upload is left alone (Terraform does not"
line "pass its record to the destroy of a tainted object); 'Creating...' finds the upload on the server and resumes it"
line "like this one. Let it run.${N}"

# ---------------------------------------------------------------------------------------------------------
say "Act 5 — nothing left to do"
tf plan2 plan -detailed-exitcode && rc=0 || rc=$?
[ "$rc" = 0 ] || show_failure plan2 "plan after the resume is not empty (exit $rc)"
line "terraform plan -detailed-exitcode → 0: $(grep -m1 'No changes' "$WORK/plan2.out")"
want=$( (sha256sum "$SRC" 2>/dev/null || shasum -a 256 "$SRC") | cut -d' ' -f1)
have=$(cd "$WORK/tf" && terraform state show -no-color obs_object_multipart.sample | sed -n 's/^ *source_sha256 *= *"\(.*\)"/\1/p')
[ "$want" = "$have" ] || die "state has source_sha256 $have, the file is $want"
line "state, object metadata and file agree: sha256 $want"

say "The story in numbers"
line "file                $(human "$SIZE") in $PARTS parts of $(human "$PART"), concurrency $CONC"
line "first upload        $parts1 parts, $(human "$sent1") sent"
line "interrupted upload  Ctrl-C after $done2 parts; $kept of $PARTS complete on the server in the end ($(human "$wasted") had arrived, cut-off parts included)"
twice=$((parts3 - (PARTS - kept)))
line "resumed upload      $parts3 parts sent = $PARTS − $kept already there ($twice complete parts sent twice), $(human "$sent3") ($(pct "$sent3" "$SIZE") % of the file), in $secs s"
line "final plan          empty"
cached=$(find "$WORK/cache/terraform-provider-obs" -type f 2>/dev/null | wc -l | tr -d ' ')
line "cleaning up: stopping obslocal (pid $SERVER_PID), removing $WORK (with the provider's $cached cache entries)"
