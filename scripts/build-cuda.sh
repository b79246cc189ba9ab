#!/usr/bin/env bash
# Builds a release `recbench` with `--features cuda` for sm_90 (H100/H200), plus the
# CPU-vs-GPU agreement test binary, on a machine that has no GPU and no CUDA toolkit.
#
#   scripts/build-cuda.sh            # downloads into the cache on first use, then builds
#
# What it does (idempotent; downloads are cached):
#  1. CUDA 13.0 build pieces from PyPI (nvcc, nvvm, crt, runtime headers), unpacked into
#     $RECBENCH_CUDA_HOME/toolkit (default ~/.cache/recbench-cuda). Build against 13.0,
#     not a newer 13.x: the device machines' driver 580 supports CUDA 13.0, and PTX from
#     a newer nvcc would not load.
#  2. A fake `nvidia-smi` that answers `compute_cap` with 9.0 (dfdx's build script asks).
#  3. Link-time stub libraries for libcuda.so.1, libnvrtc.so.13, libcublas.so.13 and
#     libcublasLt.so.13, generated from cudarc's own bindings (scripts/gen-cuda-stubs.py).
#     They are passed to the linker only: nothing records their path in the binary, and
#     they must never be on LD_LIBRARY_PATH at run time (scripts/recbench-cuda finds the
#     real libraries).
#  4. cargo build --release --features cuda, and the agreement test (--no-run); copies
#     both, stripped, to $RECBENCH_CUDA_DIST (default <repo>/target/cuda-dist).
#
#  5. dfdx compiles a few kernels at run time with NVRTC (concat_along, which every
#     `[embeddings | dense]` model input uses; reshape of strided tensors; stack;
#     to_dtype), with two include folders whose absolute build-machine paths it bakes into
#     the binary: CUDA_ROOT/include (for cuda_fp16.h) and its own build OUT_DIR (for
#     cuda_utils.cuh). Copies the few headers needed to $DIST/nvrtc-include and the baked
#     paths to $DIST/nvrtc-paths; scripts/recbench-cuda recreates the paths on the GPU
#     machine. NVRTC must also not be newer than the driver (PTX from NVRTC 13.2 does not
#     load on a CUDA 13.0 driver), so NVRTC 13.0 (nvidia-cuda-nvrtc==13.0.88) is shipped
#     too, xz-compressed, as $DIST/nvrtc-13.0.tar.xz; the launcher unpacks and prefers it.
#
# Environment: RECBENCH_CUDA_HOME, RECBENCH_CUDA_DIST, CARGO_TARGET_DIR (default
# <repo>/target), CUDA_COMPUTE_CAP (default 90), PYTHON (default python3),
# RECBENCH_CUDA_NO_NVRTC=1 (do not ship NVRTC 13.0).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${RECBENCH_CUDA_HOME:-$HOME/.cache/recbench-cuda}
CAP=${CUDA_COMPUTE_CAP:-90}
PY=${PYTHON:-python3}
CARGO_TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")
export CARGO_TARGET_DIR
DIST=${RECBENCH_CUDA_DIST:-$ROOT/target/cuda-dist}
# Exact wheel versions, all CUDA 13.0 (nvcc 13.0.88). cccl holds <nv/target>, which
# cuda_fp16.h includes.
WHEELS=(
    nvidia-cuda-nvcc==13.0.88
    nvidia-nvvm==13.0.88
    nvidia-cuda-crt==13.0.88
    nvidia-cuda-runtime==13.0.96
    nvidia-cuda-cccl==13.0.85
)

say() { printf '[build-cuda] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
for tool in "$PY" gcc cargo; do
    command -v "$tool" >/dev/null || die "needs $tool on PATH"
done
start=$(date +%s)

# 1. Toolkit pieces from PyPI.
TK=$CACHE/toolkit
mkdir -p "$CACHE/wheels" "$TK"
for spec in "${WHEELS[@]}"; do
    stamp=$TK/.unpacked-${spec/==/-}
    [[ -e $stamp ]] && continue
    name=${spec%%==*}
    say "downloading $spec"
    "$PY" -m pip download --quiet --no-deps --only-binary=:all: -d "$CACHE/wheels" "$spec" \
        || die "pip download $spec failed"
    whl=$(ls "$CACHE/wheels/${name//-/_}-${spec##*==}-"*.whl 2>/dev/null | head -n1)
    [[ -n $whl ]] || die "no wheel for $spec in $CACHE/wheels"
    say "unpacking $(basename "$whl")"
    "$PY" -m zipfile -e "$whl" "$TK"
    touch "$stamp"
done
CUDA_ROOT=$TK/nvidia/cu13
# zipfile drops the executable bits.
chmod +x "$CUDA_ROOT"/bin/* "$CUDA_ROOT"/nvvm/bin/* 2>/dev/null || true
[[ -x $CUDA_ROOT/bin/nvcc ]] || die "no nvcc in $CUDA_ROOT/bin"
[[ -f $CUDA_ROOT/include/cuda.h ]] || die "no include/cuda.h in $CUDA_ROOT"
nvcc_version=$("$CUDA_ROOT/bin/nvcc" --version | grep -o 'release [0-9.]*' || true)
[[ $nvcc_version == "release 13.0" ]] || die "nvcc says '$nvcc_version', expected release 13.0"

# 2. A fake nvidia-smi for dfdx's build script (the real one, if any, is shadowed: the
# target is fixed by CUDA_COMPUTE_CAP, not by whatever GPU this machine has).
mkdir -p "$CACHE/bin"
cat >"$CACHE/bin/nvidia-smi" <<SMI
#!/bin/sh
# recbench build-cuda.sh: answers dfdx's build script only.
echo compute_cap
echo ${CAP%?}.${CAP: -1}
SMI
chmod +x "$CACHE/bin/nvidia-smi"

# 3. Link-time stubs from the cudarc version in Cargo.lock.
(cd "$ROOT" && cargo fetch --quiet)
CUDARC_VERSION=$(awk '/^name = "cudarc"$/ {getline; gsub(/"/, "", $3); print $3; exit}' "$ROOT/Cargo.lock")
[[ -n $CUDARC_VERSION ]] || die "cudarc is not in Cargo.lock"
CUDARC_SRC=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-"$CUDARC_VERSION" 2>/dev/null | head -n1)
[[ -d $CUDARC_SRC ]] || die "cudarc $CUDARC_VERSION sources not found after cargo fetch"
STUBS=$CACHE/stubs/cudarc-$CUDARC_VERSION
if [[ ! -e $STUBS/.done ]]; then
    say "generating link stubs from $CUDARC_SRC"
    rm -rf "$STUBS"
    "$PY" "$ROOT/scripts/gen-cuda-stubs.py" "$CUDARC_SRC" "$STUBS/src"
    for pair in cuda:libcuda.so.1 nvrtc:libnvrtc.so.13 cublas:libcublas.so.13 cublasLt:libcublasLt.so.13; do
        stem=${pair%%:*} soname=${pair#*:}
        gcc -shared -fPIC -w -Wl,-soname,"$soname" -o "$STUBS/lib$stem.so" "$STUBS/src/$stem.c"
    done
    touch "$STUBS/.done"
fi

# 4. Build.
export PATH=$CACHE/bin:$CUDA_ROOT/bin:$PATH
export CUDA_ROOT CUDA_COMPUTE_CAP=$CAP
export RUSTFLAGS="${RUSTFLAGS:-} -L native=$STUBS"
cd "$ROOT"
say "cargo build --release -p harness --features cuda (sm_$CAP, CUDA_ROOT=$CUDA_ROOT)"
cargo build --release -p harness --features cuda --bin recbench
say "cargo test --release -p baselines --features cuda --test cuda_agreement --no-run"
test_bin=$(cargo test --release -p baselines --features cuda --test cuda_agreement --no-run \
    --message-format=json 2>/dev/null | "$PY" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "cuda_agreement":
        print(m["executable"])')
[[ -x $test_bin ]] || die "the cuda_agreement test binary was not built"

mkdir -p "$DIST"
for pair in "$CARGO_TARGET_DIR/release/recbench:recbench" "$test_bin:cuda-agreement"; do
    src=${pair%%:*} dst=$DIST/${pair#*:}
    objcopy --strip-debug "$src" "$dst.tmp" && mv "$dst.tmp" "$dst"
done
# The binaries must need the real SONAMEs and carry no path to the stubs.
needed=$(readelf -d "$DIST/recbench" | grep -o 'Shared library: \[[^]]*\]' | tr -d '[]' | awk '{print $3}' | tr '\n' ' ')
# (libcublasLt.so.13 is dropped by --as-needed: dfdx calls only cuBLAS, which loads it.)
for lib in libcuda.so.1 libnvrtc.so.13 libcublas.so.13; do
    [[ " $needed " == *" $lib "* ]] || die "recbench does not link $lib (needs: $needed)"
done
if readelf -d "$DIST/recbench" | grep -qE 'RPATH|RUNPATH'; then
    die "recbench records an RPATH/RUNPATH; it must not point at the stubs"
fi
say "needs: $needed"

# 5. Run-time NVRTC: headers at the paths dfdx baked in, and NVRTC 13.0 itself.
inc_cuda=$CUDA_ROOT/include
grep -aqF "$inc_cuda" "$CARGO_TARGET_DIR/release/recbench" \
    || die "recbench does not contain the include path $inc_cuda"
out_dirs=$(for b in "$CARGO_TARGET_DIR/release/recbench" "$test_bin"; do
    grep -aoE "$CARGO_TARGET_DIR/release/build/dfdx-[0-9a-f]{16}/out" "$b" || true
done | sort -u)
[[ -n $out_dirs ]] || die "no dfdx OUT_DIR path found in the binaries"
rm -rf "$DIST/nvrtc-include"
mkdir -p "$DIST/nvrtc-include/cuda" "$DIST/nvrtc-include/dfdx"
cp -r "$inc_cuda/cuda_fp16.h" "$inc_cuda/cuda_fp16.hpp" "$inc_cuda/nv" "$DIST/nvrtc-include/cuda/"
{
    echo "$inc_cuda cuda"
    for d in $out_dirs; do
        [[ -f $d/cuda_utils.cuh ]] || die "$d has no cuda_utils.cuh"
        cp "$d"/*.cuh "$DIST/nvrtc-include/dfdx/"
        echo "$d dfdx"
    done
} >"$DIST/nvrtc-paths"
if [[ ${RECBENCH_CUDA_NO_NVRTC:-0} != 1 ]]; then
    nv=$CACHE/nvrtc-13.0.tar.xz
    if [[ ! -s $nv ]]; then
        spec=nvidia-cuda-nvrtc==13.0.88
        say "downloading $spec (NVRTC for run-time kernels)"
        "$PY" -m pip download --quiet --no-deps --only-binary=:all: -d "$CACHE/wheels" "$spec" \
            || die "pip download $spec failed"
        tmp=$(mktemp -d)
        "$PY" - "$CACHE/wheels"/nvidia_cuda_nvrtc-13.0.88-*.whl "$tmp" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for name in ("libnvrtc.so.13", "libnvrtc-builtins.so.13.0"):
    with open(f"{sys.argv[2]}/{name}", "wb") as f:
        f.write(z.read(f"nvidia/cu13/lib/{name}"))
PY
        say "compressing NVRTC 13.0 (xz; about a minute)"
        tar -C "$tmp" -cf - libnvrtc.so.13 libnvrtc-builtins.so.13.0 | xz -T0 -6 >"$nv.tmp"
        mv "$nv.tmp" "$nv"
        rm -rf "$tmp"
    fi
    cp "$nv" "$DIST/nvrtc-13.0.tar.xz"
fi
say "dist: $(du -sh "$DIST" | cut -f1) in $DIST"
say "built $DIST/recbench and $DIST/cuda-agreement in $(( $(date +%s) - start )) s"
say "run on a GPU machine with: scripts/recbench-cuda run <suite> --device cuda"
