#!/usr/bin/env bash
# bench: side-by-side benchmarks against the local OBS server (cmd/obslocal)
# and versitygw, each started as a separate process on loopback, with the
# uploaders people use instead of this provider (cmd/obsbench/peers, a module
# of its own), over HTTP and HTTPS. Prints one table and writes
# docs/benchmarks.md. Run it through `make bench`.
#
# Environment overrides (defaults in brackets) shrink it for a quick check:
#   BENCH_SIZE [1GiB]             file uploaded by rows 1, 4, 6 and 7
#   BENCH_HASH_SIZE [2GiB]        file hashed (row 2) and applied with terraform (row 3)
#   BENCH_RUNS [3]                runs per measurement; the table shows medians
#   BENCH_CONCURRENCY [4]         workers for rows 1, 4, 6 and 7 (row 3 uses 8)
#   BENCH_PART_SIZES [9MiB,16MiB,64MiB]  part sizes of row 1
#   BENCH_PLAN_RESOURCES [100]    resources in row 5
#   BENCH_PLAN_FILE_SIZE [64MiB]  size of each of them
#   BENCH_NET_MBPS [50]           per-connection limit of the network-bound runs
#   BENCH_ROWS [1,2,3,4,5,6,7]    rows of the table to measure: 1 upload throughput
#                                 (HTTP, network-bound, HTTPS, versitygw), 2 hashing,
#                                 3 memory, 4 resume, 5 plan scale, 6 whole apply,
#                                 7 bandwidth cap (max_bandwidth within ±10%)
#   BENCH_OUT [docs/benchmarks.md]  report path; "-" writes none (the default
#                                 when BENCH_ROWS selects only some rows)
#   BENCH_SERVER_DATA [/dev/shm]  where the servers store the objects; memory by
#                                 default, so that disk writeback does not set the figures
# e.g. BENCH_SIZE=64MiB BENCH_HASH_SIZE=128MiB BENCH_RUNS=1 BENCH_PLAN_RESOURCES=5 make bench
#      BENCH_ROWS=1 BENCH_PART_SIZES=16MiB make bench   (throughput only)
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything runs on loopback: a proxy must not intercept it.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

tmp=$(mktemp -d "${TMPDIR:-/tmp}/obsbench-bin-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "bench: building obslocal, the provider, obsbench, the peers and the provider's test binary" >&2
mkdir -p "$tmp/providers"
go build -o "$tmp/obslocal" ./cmd/obslocal
go build -trimpath -o "$tmp/providers/terraform-provider-obs" .
go build -o "$tmp/obsbench" ./cmd/obsbench
go test -c -o "$tmp/provider.test" ./internal/provider
(cd cmd/obsbench/peers && go build -o "$tmp/peers" .)

# versitygw: on PATH or where `make versitygw` puts it; without it the
# versitygw comparison is left out.
vgw=$(command -v versitygw || true)
[[ -z $vgw && -x .cache/bin/versitygw ]] && vgw=.cache/bin/versitygw
[[ -z $vgw ]] && echo "bench: versitygw not found (make versitygw): no versitygw comparison" >&2

out=${BENCH_OUT:-docs/benchmarks.md}
if [[ -n ${BENCH_ROWS:-} && -z ${BENCH_OUT:-} ]]; then
	out="-" # a partial run does not overwrite the report
fi
[[ $out == "-" ]] && out=""

# The command recorded in the report: make bench plus any overrides in effect.
cmdline="make bench"
for v in BENCH_SIZE BENCH_HASH_SIZE BENCH_RUNS BENCH_CONCURRENCY BENCH_PART_SIZES BENCH_PLAN_RESOURCES BENCH_PLAN_FILE_SIZE BENCH_NET_MBPS BENCH_ROWS BENCH_SERVER_DATA; do
	[[ -n ${!v:-} ]] && cmdline="$v=${!v} $cmdline"
done

"$tmp/obsbench" -obslocal "$tmp/obslocal" -provider-dir "$tmp/providers" -provider-test "$tmp/provider.test" \
	-peers "$tmp/peers" -versitygw "$vgw" -terraform "$(command -v terraform)" -out "$out" -command "$cmdline"
