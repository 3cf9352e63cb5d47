#!/usr/bin/env bash
# Reproduces a fuzzing run: builds TARGET and runs it for SECONDS.
#
# Usage: fuzz/run.sh TARGET SECONDS [more libFuzzer flags]
#   TARGET: parse | pipeline | config | report
#   fuzz/run.sh parse 600
#   fuzz/run.sh parse 0 fuzz/artifacts/parse/crash-…   (replays one input: SECONDS is ignored)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain RUSTC_BOOTSTRAP=1 lets
# cargo-fuzz use the unstable flags it needs. Built optimised, with debug assertions and
# overflow checks (-O -a). Environment:
#   SANITIZER   none (default; the crate has no unsafe code) or address
#   RSS_MB      -rss_limit_mb (default 2048);  TIMEOUT  -timeout in seconds (default 10)
#   BUILD_LOCK  a file to flock while building (default /tmp/cargo-build.lock when it exists)
#
# The working corpus (fuzz/corpus/TARGET, not committed) is seeded from tests/data,
# examples/ and fuzz/seeds/TARGET; crashes land in fuzz/artifacts/TARGET.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
target="${1:?usage: fuzz/run.sh TARGET SECONDS}"
seconds="${2:?usage: fuzz/run.sh TARGET SECONDS}"
shift 2
sanitizer="${SANITIZER:-none}"
export RUSTC_BOOTSTRAP=1

case "$target" in
  parse) max_len=65536 ;;
  pipeline) max_len=16384 ;;
  config) max_len=8192 ;;
  report) max_len=16384 ;;
  *) echo "unknown target '$target' (parse, pipeline, config, report)" >&2; exit 2 ;;
esac

lock="${BUILD_LOCK:-/tmp/cargo-build.lock}"
build=(cargo fuzz build -O -a -s "$sanitizer" "$target")
if [ -e "$lock" ] && command -v flock >/dev/null; then
  (cd "$here" && flock "$lock" "${build[@]}")
else
  (cd "$here" && "${build[@]}")
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"
binary="$here/target/$triple/release/$target"

corpus="$here/corpus/$target"
artifacts="$here/artifacts/$target"
mkdir -p "$corpus" "$artifacts"

# Seeds: the option byte the target reads first (0 = automatic), then a real file.
seed() { # seed NAME OPTION-BYTE FILE
  { printf "\\x$2"; cat "$3"; } >"$corpus/seed-$1"
}
if [ -z "$(ls -A "$corpus")" ]; then
  case "$target" in
    parse)
      for f in "$root"/tests/data/*.csv "$root"/tests/data/*.txt "$root"/tests/data/*.tsv \
               "$root"/tests/data/*.xls "$root"/tests/data/*.ods "$root"/tests/data/regressions/*; do
        seed "$(basename "$f")" 00 "$f"
      done
      for f in "$root"/tests/data/*.xlsx; do
        [ "$(stat -c %s "$f")" -le "$max_len" ] && seed "$(basename "$f")" 00 "$f"
      done
      seed reader-users.csv 08 "$root/tests/data/users.csv"
      seed limits-users.xlsx 40 "$root/tests/data/users.xlsx"
      seed header3-title_rows.csv 20 "$root/tests/data/blank_lines.csv"
      ;;
    pipeline)
      for f in "$root"/tests/data/*.csv "$root"/examples/data/*.csv; do
        cp "$f" "$corpus/seed-$(basename "$f")"
      done
      ;;
    config)
      for f in "$root"/examples/configs/*.toml; do
        seed "$(basename "$f")" 00 "$f"
      done
      ;;
    report) ;;
  esac
  if [ -d "$here/seeds/$target" ]; then
    cp "$here/seeds/$target"/* "$corpus/" 2>/dev/null || true
  fi
fi

flags=(-rss_limit_mb="${RSS_MB:-2048}" -timeout="${TIMEOUT:-10}" -max_len="$max_len"
       -print_final_stats=1 -artifact_prefix="$artifacts/")
if [ "$#" -gt 0 ] && [ -f "$1" ]; then
  exec nice -n 19 "$binary" "${flags[@]}" "$@"
fi
exec nice -n 19 "$binary" "${flags[@]}" -max_total_time="$seconds" "$@" "$corpus"
