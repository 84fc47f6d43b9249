#!/usr/bin/env bash
# Issue 27, end to end: the Python reference (bench/reference_python.py) and `fibseg run` (and,
# with BASE=path/to/another/fibseg, that build too) on the same phantom, interleaved, REPEAT
# times. Prints per run the wall and CPU seconds (user + sys, /usr/bin/time), peak RSS, the
# 1-minute load average at the start, and fibseg's split (run.json timings_s).
#   fibseg phantom /tmp/ph60 --width 2048 --height 1536 --slices 60 --seed 3
#   bench/issue27_e2e.sh /tmp/ph60 /tmp/e2e 2            # BUILD=build, registry defaults
#   BASE=/path/main/build/fibseg bench/issue27_e2e.sh /tmp/ph60 /tmp/e2e 2
# Every fibseg run has [measure] enabled = false (the issue's split has no measure stage).
# NO_PYTHON=1 skips the reference; EXTRA="--set segment.method=notebook" adds to every fibseg run.
set -euo pipefail
cd "$(dirname "$0")/.."
PHANTOM=$1
OUT=$2
REPEAT=${3:-1}
BUILD=${BUILD:-build}
mkdir -p "$OUT"
bars=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['data_bar_rows'])" "$PHANTOM/phantom.json")

timed() {  # timed NAME command...
  local name=$1
  shift
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/$name.time" "$@" > "$OUT/$name.log" 2>&1 || { tail "$OUT/$name.log"; exit 1; }
  read -r wall user sys rss < "$OUT/$name.time"
  printf '%-10s wall %7.1f s  CPU %7.1f s (user %.1f + sys %.1f)  peak %5d MiB  load %s' \
    "$name" "$wall" "$(echo "$user + $sys" | bc)" "$user" "$sys" $((rss / 1024)) "$load"
}
split() {  # split FOLDER: run.json timings_s
  /usr/bin/python3 -c "import json,sys; t=json.load(open(sys.argv[1]+'/run.json'))['timings_s']; print('  ', ', '.join(f'{k} {v:.1f}' for k,v in t.items()))" "$1"
}
fibseg_run() {  # fibseg_run NAME BINARY
  cat > "$OUT/$1.toml" <<TOML
[input]
path = "$(realpath "$PHANTOM")/raw"
[output]
folder = "$(realpath "$OUT")/$1"
[measure]
enabled = false
TOML
  rm -rf "${OUT:?}/$1"
  # shellcheck disable=SC2086
  timed "$1" "$2" run "$OUT/$1.toml" ${EXTRA:-}
  split "$OUT/$1"
}
for i in $(seq "$REPEAT"); do
  if [ -z "${NO_PYTHON:-}" ]; then
    rm -rf "${OUT:?}/python"
    timed python /usr/bin/python3 bench/reference_python.py "$PHANTOM/raw" "$OUT/python" "$bars"
    echo
  fi
  fibseg_run fibseg "$BUILD/fibseg"
  if [ -n "${BASE:-}" ]; then fibseg_run base "$BASE"; fi
done
