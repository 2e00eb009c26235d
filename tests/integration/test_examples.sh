#!/usr/bin/env bash
# Every example policy shipped (deploy/examples/, the cookbook's recipes
# included) passes `sluicectl policy check`, and every recipe the
# cookbook links exists: the docs stay true as the language moves.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CTL=${SLUICE_BUILD:-$ROOT/build}/control/sluicectl
[ -x "$CTL" ] || { echo "build first: $CTL"; exit 1; }
n=0
while IFS= read -r f; do
	"$CTL" policy check "$f" >/dev/null || { "$CTL" policy check "$f"; echo "FAIL: $f"; exit 1; }
	n=$((n + 1))
done < <(find "$ROOT/deploy/examples" -name '*.yaml' | sort)
[ "$n" -ge 6 ] || { echo "FAIL: only $n example policies found"; exit 1; }
grep -o 'deploy/examples/cookbook/[a-z0-9-]*\.yaml' "$ROOT/docs/cookbook.md" | sort -u |
while IFS= read -r f; do
	[ -f "$ROOT/$f" ] || { echo "FAIL: docs/cookbook.md links $f, which does not exist"; exit 1; }
done
echo "ok: $n example policies check clean; the cookbook's links resolve"
