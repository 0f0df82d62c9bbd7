#!/usr/bin/env bash
# Rebuilds lib/engine/wasm-kernels/kernels.wasm from native/kernels.c.
# Usage: scripts/build-wasm.sh [output.wasm]   (default: the committed binary)
# Deterministic: no debug info, no paths, names and producer info stripped,
# so the same clang/lld version gives byte-identical output.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/lib/engine/wasm-kernels/kernels.wasm}"
CLANG="${CLANG:-clang}"
command -v "$CLANG" >/dev/null || { echo "build-wasm: $CLANG not found (install clang and lld)" >&2; exit 127; }
cd "$root"
# -mbulk-memory: loops the optimiser turns into memset/memcpy become
#   memory.fill/memory.copy instead of calls to a libc we do not link.
# --import-memory: the module runs on the tfjs backend's heap, so it must not
#   own any of it: no static data (test/wasm-build.test.ts checks there is no
#   data section) and no stack frames (-Wframe-larger-than=0 makes one a build
#   error), so the stack pointer wasm-ld still defines, just below tfjs's
#   data, is never used.
# --strip-all: no names or producer section, nothing that varies by machine.
"$CLANG" --target=wasm32 -msimd128 -mbulk-memory -O3 -nostdlib -ffreestanding \
  -fno-ident -Wall -Wextra -Werror -Wframe-larger-than=0 \
  -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all -Wl,-z,stack-size=0 \
  -o "$out" native/kernels.c
