#!/usr/bin/env bash
# The GPU path in one command: builds lmcache-gpu, runs its gpu-tagged tests (the engine's 216 contract cases
# and the driver facade on device 0), then the bandwidth benchmark for the vLLM, flash-infer and MLA layouts
# (gather + D2H and H2D + scatter, pipelined and not, staged and zero-copy, against a plain pinned
# cuMemcpyAsync of the same bytes), and writes one JSON file (schema: lmcache-gpu/README.md, "GPU check").
# About 3-5 minutes on one GPU. Without a GPU it prints the reason, writes {"gpu": false, "reason": ...} and
# exits 0. Exits 1 when a gpu test fails.
#
# Usage: lmcache-gpu/scripts/gpu-check.sh [output.json]        (default: ./gpu-check.json)
#   LMCACHE_GPU_CHECK_CLASSPATH=...  run against this class path without building (the tests use it)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(realpath -m "${1:-gpu-check.json}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$root"
if [ -n "${LMCACHE_GPU_CHECK_CLASSPATH:-}" ]; then
  classpath="$LMCACHE_GPU_CHECK_CLASSPATH"
else
  echo "gpu-check: building lmcache-gpu..." >&2
  ./mvnw -q -B install -pl lmcache-gpu -am -DskipTests >&2
  ./mvnw -q -B dependency:build-classpath -pl lmcache-gpu -Dmdep.includeScope=runtime \
    -Dmdep.outputFile=target/gpu-check.classpath >&2
  classpath="$root/lmcache-gpu/target/classes:$(cat "$root/lmcache-gpu/target/gpu-check.classpath")"
fi
jdk="$("$root/bin/find-jdk")"
bench() { # format json-file [options]
  local format="$1" json="$2"; shift 2
  "$jdk/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$classpath" \
    org.lmcache4j.gpu.KvCopyBenchmark --format "$format" --json "$json" "$@"
}

# The first benchmark also tells whether there is a GPU at all.
bench VLLM "$work/vllm.json"
if grep -q '"gpu": false' "$work/vllm.json"; then
  cp "$work/vllm.json" "$out"
  echo "gpu-check: no GPU here, nothing to check ($(sed -e 's/.*"reason": //' -e 's/}$//' "$work/vllm.json")); wrote $out"
  exit 0
fi

echo "gpu-check: running the gpu-tagged tests..." >&2
tests_status=0
./mvnw -B verify -pl lmcache-gpu -Dlmcache.excludedGroups= -Dgroups=gpu -DskipITs > "$work/tests.log" 2>&1 || tests_status=$?
summary="$(grep -E '^\[(INFO|ERROR|WARNING)\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$' "$work/tests.log" \
  | tail -1 | sed -E 's/.*Tests run: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+), Skipped: ([0-9]+)/\1 \2 \3 \4/')"
read -r run failures errors skipped <<< "${summary:-0 0 0 0}"

bench FLASH_INFER "$work/flash_infer.json"
bench MLA "$work/mla.json" --kv-heads 1 --head-dim 576

{
  echo "{"
  echo "  \"gpu\": true,"
  echo "  \"tests\": {\"run\": $run, \"failures\": $failures, \"errors\": $errors, \"skipped\": $skipped, \"passed\": $([ "$tests_status" = 0 ] && echo true || echo false)},"
  echo "  \"benchmarks\": ["
  echo "    $(cat "$work/vllm.json"),"
  echo "    $(cat "$work/flash_infer.json"),"
  echo "    $(cat "$work/mla.json")"
  echo "  ]"
  echo "}"
} > "$out"
echo "gpu-check: tests $run run, $failures failed, $errors errors, $skipped skipped; benchmarks of 3 layouts; wrote $out"
[ "$tests_status" = 0 ] || { echo "gpu-check: gpu tests failed; their log:" >&2; tail -40 "$work/tests.log" >&2; exit 1; }
