#!/usr/bin/env bash
# Peers side by side (issue 7, item 4): user-import's CLI, frictionless-py and pandas (pyarrow)
# validate the same users CSV against the same rules; one table of wall time, rows/s, peak
# memory (max RSS) and ratios vs `user-import import --dry-run`. Not part of CI.
#
#   benches/compare/run.sh [CSV] [--frictionless-rows N] [--skip-frictionless]
#
# CSV defaults to target/bench-data/users_1m.csv (the file `cargo bench --bench parse` caches,
# benches/support/data.rs); when that default is missing it is written by gen_users.py, a
# byte-identical Python port of the generator. --frictionless-rows N runs frictionless on the
# first N data rows only and extrapolates its time linearly (said so in the table).
#
# Environment: USER_IMPORT_BIN (a built CLI; default: `cargo build --profile release-lto --features
# cli`, the profile it is installed with),
# PYTHON (default python3.11, else python3). The virtualenv target/compare-venv is created and
# filled from benches/compare/requirements.txt (the only download). Needs GNU time
# (/usr/bin/time; Debian package `time`).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

csv=target/bench-data/users_1m.csv
fl_rows=0
skip_fl=0
while (($#)); do
    case $1 in
        --frictionless-rows) fl_rows=${2:?--frictionless-rows needs a number}; shift 2 ;;
        --skip-frictionless) skip_fl=1; shift ;;
        -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option: $1" >&2; exit 2 ;;
        *) csv=$1; shift ;;
    esac
done

gnu_time=/usr/bin/time
if ! "$gnu_time" -f %M true >/dev/null 2>&1; then
    echo "GNU time is needed for peak memory (apt-get install time)" >&2
    exit 1
fi
python=${PYTHON:-$(command -v python3.11 || command -v python3)}

# The data.
if [[ ! -f $csv ]]; then
    if [[ $csv != target/bench-data/users_1m.csv ]]; then
        echo "no such file: $csv" >&2
        exit 1
    fi
    echo "generating $csv (gen_users.py, same bytes as benches/support/data.rs)..." >&2
    mkdir -p target/bench-data
    "$python" "$here/gen_users.py" "$csv" 1000000
fi

# Our CLI.
if [[ -n ${USER_IMPORT_BIN:-} ]]; then
    bin=$USER_IMPORT_BIN
else
    echo "building user-import (release-lto, cli)..." >&2
    flock /tmp/cargo-build.lock cargo build --quiet --profile release-lto --features cli
    bin=$root/target/release-lto/user-import
fi

# The Python peers.
venv=target/compare-venv
if ! cmp -s "$here/requirements.txt" "$venv/.requirements" 2>/dev/null; then
    echo "installing the Python peers into $venv..." >&2
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/.requirements"
fi
py=$venv/bin/python

work=target/compare
mkdir -p "$work"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" "$here/peers.py" schema >"$work/users.schema.json"

# measure NAME OK_CODES CMD...: runs CMD under GNU time; records "seconds kib" in $tmp/NAME.time
# and its standard output in $tmp/NAME.out. OK_CODES: the exit codes that are not failures
# (user-import exits 1 when some rows are invalid).
measure() {
    local name=$1 ok=$2 code=0
    shift 2
    "$gnu_time" -f '%e %M' -o "$tmp/$name.time" "$@" >"$tmp/$name.out" || code=$?
    if [[ " $ok " != *" $code "* ]]; then
        echo "$name failed (exit $code): $*" >&2
        cat "$tmp/$name.out" >&2
        exit 1
    fi
    tail -n 1 "$tmp/$name.time" >"$tmp/$name.time.last"
}

echo "warming the page cache with $csv..." >&2
cat "$csv" >/dev/null

config=$here/rules.toml
echo "user-import import --dry-run..." >&2
measure ours_import "0 1" "$bin" import "$csv" --config "$config" --db "$tmp/dry.db" --dry-run --quiet
echo "user-import validate..." >&2
measure ours_validate "0 1" "$bin" validate "$csv" --config "$config" --quiet
# Counts from the same commands with --json instead of --quiet (not timed).
rm -f "$tmp/dry.db"
{ "$bin" import "$csv" --config "$config" --db "$tmp/dry.db" --dry-run --json || true; } \
    | "$py" "$here/peers.py" report >"$tmp/ours_import.count"
{ "$bin" validate "$csv" --config "$config" --json || true; } \
    | "$py" "$here/peers.py" report >"$tmp/ours_validate.count"

echo "pandas (pyarrow)..." >&2
measure pandas 0 "$py" "$here/peers.py" pandas "$csv"

fl_note=""
if ((!skip_fl)); then
    fl_csv=$csv
    if ((fl_rows > 0)); then
        fl_csv=$tmp/head.csv
        head -n "$((fl_rows + 1))" "$csv" >"$fl_csv"
    fi
    echo "frictionless validate ($( ((fl_rows > 0)) && echo "first $fl_rows rows" || echo "every row"); minutes)..." >&2
    measure frictionless 0 "$py" "$here/peers.py" frictionless "$fl_csv" "$work/users.schema.json"
fi

field() { # field KEY FILE: the value of KEY=... on the RESULT line of FILE
    grep '^RESULT ' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
rows=$(field rows "$tmp/ours_import.count")
read -r base_s base_kib <"$tmp/ours_import.time.last"

table=$work/results.md
{
    echo "| tool | rows | wall s | rows/s | peak RSS MiB | time × ours | memory × ours | invalid rows |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    line() { # line LABEL NAME COUNTFILE
        local label=$1 name=$2 counts=$3 s kib n invalid
        read -r s kib <"$tmp/$name.time.last"
        n=$(field rows "$counts")
        invalid=$(field invalid "$counts")
        if [[ $n != "$rows" ]]; then # frictionless on the first N rows: extrapolate the time
            s=$(awk -v s="$s" -v n="$n" -v r="$rows" 'BEGIN { printf "%.2f", s * r / n }')
            label="$label ⁽ᵉ⁾"
            invalid="$invalid of $n"
            fl_note="⁽ᵉ⁾ frictionless ran on the first $n rows; its time is extrapolated linearly to $rows rows, its memory and counts are those of $n rows."
        fi
        awk -v l="$label" -v r="$rows" -v s="$s" -v k="$kib" -v bs="$base_s" -v bk="$base_kib" -v i="$invalid" \
            'BEGIN { printf "| %s | %d | %.2f | %.0f | %.0f | %.2f | %.2f | %s |\n", l, r, s, r / s, k / 1024, s / bs, k / bk, i }'
    }
    line "user-import import --dry-run" ours_import "$tmp/ours_import.count"
    line "user-import validate (no superiors)" ours_validate "$tmp/ours_validate.count"
    line "pandas $("$py" -c 'import pandas; print(pandas.__version__)') + pyarrow" pandas "$tmp/pandas.out"
    if ((!skip_fl)); then
        line "frictionless $("$py" -c 'import frictionless; print(frictionless.__version__)') validate" \
            frictionless "$tmp/frictionless.out"
    fi
    echo
    [[ -z $fl_note ]] || echo "$fl_note"
    echo "File: $csv ($(du -m "$csv" | cut -f1) MB); $(nproc) cores; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo
    echo "Invalid rows by rule:"
    for name in ours_import ours_validate pandas frictionless; do
        for f in "$tmp/$name.count" "$tmp/$name.out"; do
            if [[ -f $f ]] && grep -q '^RESULT ' "$f"; then
                echo "- $name: $(grep '^RESULT ' "$f" | cut -d' ' -f3-)"
            fi
        done
    done
} >"$table"
cat "$table"
