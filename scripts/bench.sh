#!/usr/bin/env bash
# Placeholder: the real script arrives with its issue. It must not pretend to work.
echo "scripts/bench.sh: not implemented yet" >&2
exit 1
