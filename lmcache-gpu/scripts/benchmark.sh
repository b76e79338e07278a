#!/usr/bin/env bash
# Bandwidth benchmark of the CUDA copy engine: gather + D2H and H2D + scatter GB/s, pipelined or not,
# staged or zero-copy, against a plain cuMemcpyAsync of the same bytes. Needs an NVIDIA GPU with a
# driver of the R580 line or newer; without one it prints the reason and exits 0.
#
# Usage: lmcache-gpu/scripts/benchmark.sh [--layers 32] [--kv-heads 8] [--head-dim 128] [--dtype BF16]
#          [--format VLLM|FLASH_INFER|MLA] [--block-size 16] [--chunk-tokens 256] [--chunks 16]
#          [--iterations 10] [--device 0]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
./mvnw -q -B install -pl lmcache-gpu -am -DskipTests >&2
./mvnw -q -B dependency:build-classpath -pl lmcache-gpu -Dmdep.includeScope=runtime \
  -Dmdep.outputFile=target/benchmark.classpath >&2
jdk="$("$root/bin/find-jdk")"
exec "$jdk/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "$root/lmcache-gpu/target/classes:$(cat "$root/lmcache-gpu/target/benchmark.classpath")" \
  org.lmcache4j.gpu.KvCopyBenchmark "$@"
