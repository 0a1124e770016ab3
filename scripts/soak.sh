#!/usr/bin/env bash
# soak: the randomized soaks, long, and their figures in docs/resilience.md.
# Runs the engine soak (internal/upload TestEngineSoak) and, when the package
# has it, the terraform soak (internal/e2e TestTerraformSoak), each writing
# its report table to $SOAK_REPORT_DIR (the fragment contract:
# internal/acctest/soakreport.go), then writes those tables into the Soak
# section of docs/resilience.md, between the lines <!-- soak:begin --> and
# <!-- soak:end --> (appended when the file has none; the internal/e2e
# generator keeps the section when it regenerates the rest). Run it through
# `make soak`. A soak that fails still reports its figures; the section then
# says the run had failures, and the script exits non-zero.
#
# Environment (defaults in brackets):
#   SOAK_SECONDS [600]   the engine soak stops starting iterations after this long
#   SOAK_ITERATIONS []   the engine soak stops after this many iterations
#   SOAK_CYCLES [30]     cycles of the terraform soak
#   SOAK_SEED []         seed of the first iteration and cycle (default: each soak's own)
#   SOAK_DOC [docs/resilience.md]  the file written; "-" writes none
# e.g. SOAK_SECONDS=20 make soak
set -euo pipefail
cd "$(dirname "$0")/.."

# The command recorded in the report: make soak plus the settings given.
cmdline="make soak"
for v in SOAK_SEED SOAK_CYCLES SOAK_ITERATIONS SOAK_SECONDS; do
	[[ -n ${!v:-} ]] && cmdline="$v=${!v} $cmdline"
done

# Each soak gets only its own settings.
seconds=${SOAK_SECONDS:-600}
engine_env=(SOAK_SECONDS="$seconds" SOAK_ITERATIONS="${SOAK_ITERATIONS:-}" SOAK_SEED="${SOAK_SEED:-}")
terraform_env=(SOAK_CYCLES="${SOAK_CYCLES:-30}" SOAK_SEED="${SOAK_SEED:-}")
unset SOAK_SECONDS SOAK_ITERATIONS SOAK_CYCLES SOAK_SEED
doc=${SOAK_DOC:-docs/resilience.md}

SOAK_REPORT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/obs-soak-XXXXXX")
export SOAK_REPORT_DIR
trap 'rm -rf "$SOAK_REPORT_DIR"' EXIT

failed=0
date=$(date -u +%Y-%m-%d)
env "${engine_env[@]}" go test -count=1 -race -timeout "$((seconds + 600))s" -v -run 'TestEngineSoak$' ./internal/upload/ || failed=1

# The terraform soak: only where internal/e2e has it (go test -list runs the
# package's TestMain, which builds the provider).
terraform_soak=0
tests=$(go test -count=1 -list '^TestTerraformSoak$' ./internal/e2e/) || failed=1
if grep -qx TestTerraformSoak <<<"$tests"; then
	terraform_soak=1
	env "${terraform_env[@]}" go test -count=1 -timeout 3h -v -run 'TestTerraformSoak$' ./internal/e2e/ || failed=1
fi

[[ $doc == "-" ]] && exit "$failed"

# fragment NAME SOAK: the fragment NAME.md, or a line saying SOAK wrote none.
fragment() {
	if [[ -s $SOAK_REPORT_DIR/$1.md ]]; then
		cat "$SOAK_REPORT_DIR/$1.md"
	else
		echo "*The $2 wrote no figures (see its log).*"
	fi
}

section=$SOAK_REPORT_DIR/section.md
{
	echo '<!-- soak:begin -->'
	echo '## Soak'
	echo
	echo '<!-- Written by `make soak` (scripts/soak.sh) from the tables the soaks write; the internal/e2e generator keeps this section. -->'
	echo
	machine="$(nproc) CPUs (nproc), $(go version | sed 's/^go version //')"
	if ((terraform_soak)); then
		machine+=", $(terraform version 2>/dev/null | sed -n 1p)"
	fi
	echo "Figures of one \`$cmdline\` run on $date at commit $(git describe --always --dirty): $machine." \
		"Each table's first row says what the soak ran and how to replay one seed."
	echo
	fragment engine "engine soak"
	if ((terraform_soak)); then
		echo
		fragment terraform "terraform soak"
	fi
	if ((failed)); then
		echo
		echo '**The run that wrote these figures had failures.**'
	fi
	echo '<!-- soak:end -->'
} >"$section"

# Replace the marked section in place, or append it.
if [[ -f $doc ]] && grep -qxF '<!-- soak:begin -->' "$doc"; then
	awk -v section="$section" '
		$0 == "<!-- soak:begin -->" {
			if (seen++ || skip) { bad = 1; exit }
			while ((getline line < section) > 0) print line
			skip = 1; next
		}
		$0 == "<!-- soak:end -->" { if (!skip) { bad = 1; exit } skip = 0; next }
		!skip { print }
		END { if (bad || skip) exit 1 }
	' "$doc" >"$SOAK_REPORT_DIR/doc.md" || {
		echo "soak: $doc: want one <!-- soak:begin --> line followed by one <!-- soak:end --> line" >&2
		exit 1
	}
	cp "$SOAK_REPORT_DIR/doc.md" "$doc"
elif [[ -f $doc ]]; then
	{ echo; cat "$section"; } >>"$doc"
else
	cp "$section" "$doc"
fi
echo "soak: wrote the Soak section of $doc" >&2
exit "$failed"
