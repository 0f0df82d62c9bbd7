#!/usr/bin/env bash
# Rebuilds lib/engine/wasm-kernels/kernels.wasm (simd128) and kernels-relaxed.wasm
# (relaxed SIMD: fused multiply-add) from the same native/*.c.
# Usage: scripts/build-wasm.sh [output-dir]   (default: lib/engine/wasm-kernels, the committed binaries)
# Deterministic: no debug info, no paths, names and producer info stripped,
# so the same clang/lld version gives byte-identical output.
# Needs clang 16 (Debian: clang-16 lld-16): clang 14 knows only the
# pre-standard relaxed SIMD opcodes, which V8 rejects. Exits 127 without it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
outdir="${1:-$root/lib/engine/wasm-kernels}"
CLANG="${CLANG:-clang-16}"
command -v "$CLANG" >/dev/null || { echo "build-wasm: $CLANG not found (install clang-16 and lld-16, or set CLANG)" >&2; exit 127; }
cd "$root"
# -mbulk-memory: loops the optimiser turns into memset/memcpy become
#   memory.fill/memory.copy instead of calls to a libc we do not link.
# --import-memory: the module runs on the tfjs backend's heap, so it must not
#   own any of it: no static data (test/wasm-build.test.ts checks there is no
#   data section) and no stack frames (-Wframe-larger-than=0 makes one a build
#   error), so the stack pointer wasm-ld still defines, just below tfjs's
#   data, is never used.
# --strip-all: no names or producer section, nothing that varies by machine.
build() {
  "$CLANG" --target=wasm32 -msimd128 "$@" -mbulk-memory -O3 -nostdlib -ffreestanding \
    -fno-ident -Wall -Wextra -Werror -Wframe-larger-than=0 \
    -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all -Wl,-z,stack-size=0 \
    native/*.c
}
build -o "$outdir/kernels.wasm"
build -mrelaxed-simd -o "$outdir/kernels-relaxed.wasm"
