#!/usr/bin/env bash
# Runs every `go test -fuzz` target of the module for a short while (FUZZTIME
# each, default 8s; `make fuzz`, which CI runs after `make test`). A target that
# finds a failing input writes it under its package's testdata/fuzz/ (commit it
# with the fix: it then runs in every `go test` as a regression case) and the
# run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-8s}"
GO="${GO:-go}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
started=$(date +%s)
n=0
failed=()
for file in $(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . | sort); do
  pkg="./$(dirname "${file#./}")"
  for name in $(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(f \*testing\.F\).*/\1/p' "$file"); do
    n=$((n + 1))
    t0=$(date +%s)
    # A short minimization: an interesting input must not eat the time budget.
    if "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 3s "$pkg" >"$log" 2>&1; then
      execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
      printf 'ok    %-26s %-40s %6s execs  %ss\n' "$name" "$pkg" "${execs:-?}" "$(($(date +%s) - t0))"
    else
      printf 'FAIL  %-26s %s\n' "$name" "$pkg"
      tail -40 "$log"
      failed+=("$name ($pkg)")
    fi
  done
done
echo "fuzz: $n targets, ${FUZZTIME} each, $(($(date +%s) - started))s in all"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz: failing: %s\n' "${failed[@]}"
  exit 1
fi
