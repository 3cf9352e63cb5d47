#!/usr/bin/env bash
# Validates the 1,000,000-row benchmark CSV (benches/support/data.rs, cached in
# target/bench-data/users_1m.csv) from Rust, Python and Kotlin, with no existing users and with a
# host Directory of 100,000 existing users, and prints the Python/Rust and Kotlin/Rust ratios.
#
# Usage: bindings/bench.sh [RUNS]        (default 5 runs each; release builds)
# Needs the Python package installed in target/py-venv (scripts/test does it) and Maven.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
runs="${1:-5}"
csv="$root/target/bench-data/users_1m.csv"
config="$root/bindings/bench/bench_config.toml"
out="$root/target/bench-bindings.txt"

if [ ! -f "$csv" ]; then
  echo "generating $csv (criterion's pipeline bench writes it once)"
  cargo bench --bench pipeline -- --test >/dev/null
fi

cargo build --quiet --release -p user-import-ffi --example bench_validate
{
  "$root/target/release/examples/bench_validate" "$csv" "$config" "$runs"
  "$root/target/py-venv/bin/python" "$root/bindings/bench/bench_python.py" "$csv" "$config" "$runs"
  (cd bindings/kotlin && BENCH_CSV="$csv" BENCH_CONFIG="$config" BENCH_RUNS="$runs" \
    mvn -q -B --no-transfer-progress -Pbench test | sed 's/\x1b\[[0-9;]*m//g' | grep -E "^kotlin")
} | tee "$out"

# The machines are shared: compare the best runs (least disturbed) as well as the medians.
figure() { grep -E "^$1 +validate_path, $2" "$out" | sed -E "s/.* $3 ([0-9.]+) s.*/\1/"; }
for lang in python kotlin; do
  for stat in best median; do
    awk -v l="$lang" -v s="$stat" -v a="$(figure "$lang" "no existing users" "$stat")" \
      -v r="$(figure rust "no existing users" "$stat")" \
      'BEGIN { printf "%s/rust (%s, no existing users): %.3f\n", l, s, a / r }'
  done
done
# What a directory of 100,000 users adds to a run (medians). Rust's own figure is the work of the
# core and of an in-memory directory; the bindings add the host's lookups and the boundary.
for lang in rust python kotlin; do
  for case in "in the file" "not in it"; do
    awk -v l="$lang" -v c="$case" -v d="$(figure "$lang" "100k existing \\($case\\)" median)" \
      -v b="$(figure "$lang" "no existing users" median)" \
      'BEGIN { printf "%s: a directory of 100k users (%s) adds %.3f s\n", l, c, d - b }'
  done
done
