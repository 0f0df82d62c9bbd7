#!/usr/bin/env bash
# Rebuilds lib/engine/wasm-kernels/kernels-x86_64.node, the Node-API addon of
# native/x86-64/*.c (convolutions in AVX2 + FMA and AVX-512, picked at run time).
# Usage: scripts/build-x86-64.sh [output-dir]   (default: lib/engine/wasm-kernels, the committed binary)
# Deterministic: no debug info, no build id, no paths, no start files, symbols
# stripped, so the same clang/lld version gives byte-identical output (the
# test/engine/x86-64-build.test.ts check). Needs clang-16 and lld-16 (Debian),
# the same as scripts/build-wasm.sh, and no Node headers (native/x86-64/node-api.h).
# Exits 127 without them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
outdir="${1:-$root/lib/engine/wasm-kernels}"
CLANG="${CLANG:-clang-16}"
command -v "$CLANG" >/dev/null || { echo "build-x86-64: $CLANG not found (install clang-16 and lld-16, or set CLANG)" >&2; exit 127; }
cd "$root/native/x86-64"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# -ffp-contract=fast: a * b + acc becomes one FMA (rounded once) in the vector loops.
# -fno-stack-protector and -nostartfiles: nothing from libc's or gcc's start files; the addon
#   needs only libc's memset/memcpy/malloc and pthread_create/join.
flags=(--target=x86_64-linux-gnu -O3 -fPIC -fvisibility=hidden -fno-ident -fno-stack-protector
       -ffp-contract=fast -fno-math-errno -Wall -Wextra -Werror -ffile-prefix-map="$root"=.)
"$CLANG" "${flags[@]}" -mavx2 -mfma -c conv.c -o "$tmp/conv-avx2.o"
"$CLANG" "${flags[@]}" -mavx512f -mavx2 -mfma -c conv.c -o "$tmp/conv-avx512.o"
"$CLANG" "${flags[@]}" -c addon.c -o "$tmp/addon.o"
"$CLANG" --target=x86_64-linux-gnu -shared -nostartfiles -fuse-ld=lld -Wl,--build-id=none -Wl,--strip-all \
  -Wl,-z,now -Wl,--hash-style=gnu -o "$tmp/kernels-x86_64.node" "$tmp/addon.o" "$tmp/conv-avx2.o" "$tmp/conv-avx512.o" -lc
mv "$tmp/kernels-x86_64.node" "$outdir/kernels-x86_64.node"
