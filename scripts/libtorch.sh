#!/usr/bin/env bash
# Sets up the libtorch that `cargo build --features tch` links: PyTorch 2.9.0 (the version burn-tch
# 0.22.1 -> tch 0.22 requires) from PyPI, CPU part only, in DIR (default ~/.cache/ceq/libtorch-2.9.0).
# PyPI's Linux wheels are CUDA builds; this takes the torch wheel without its 15 CUDA packages
# (1.9 GB instead of 7 GB) plus the two CUDA runtime libraries libtorch_cpu.so links against, and
# makes a LIBTORCH folder that leaves out libtorch_cuda.so so nothing links the GPU half.
# For CUDA, install full torch==2.9.0 in a venv instead and build with LIBTORCH_USE_PYTORCH=1.
#
# Usage: eval "$(scripts/libtorch.sh [DIR])"    # exports LIBTORCH and LD_LIBRARY_PATH
set -euo pipefail
dir=${1:-${CEQ_LIBTORCH_DIR:-$HOME/.cache/ceq/libtorch-2.9.0}}
dir=$(realpath -m -- "$dir")  # absolute and clean: "$dir.partial" then lies beside it
if [ ! -e "$dir/lib/libtorch_cpu.so" ]; then
    # Only a folder of this script's is replaced: missing, empty, marked, or holding nothing but
    # what an older version of it made (venv, lib, include). Anything else, DIR.partial included,
    # is never deleted.
    tmp="$dir.partial"
    for d in "$dir" "$tmp"; do
        [ -e "$d" ] || continue
        [ -d "$d" ] && [ -e "$d/.ceq-libtorch" ] && continue
        if [ ! -d "$d" ] || ls -A "$d" | grep -qvxE 'venv|lib|include'; then
            echo "ceq: $d exists and is not a libtorch folder of ceq's; name another DIR" >&2
            exit 1
        fi
    done
    echo "ceq: installing torch 2.9.0 (CPU libraries, about 1.9 GB) into $dir" >&2
    # Built beside DIR and moved into place whole, so an install cut short is redone, not reused.
    rm -rf "$tmp"
    mkdir -p "$tmp"
    touch "$tmp/.ceq-libtorch"
    python3 -m venv "$tmp/venv"
    "$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        torch==2.9.0 nvidia-cuda-runtime-cu12==12.8.90 nvidia-cuda-cupti-cu12==12.8.90 >&2
    # site-packages relative to the folder, so the links survive the move.
    site=venv/$("$tmp/venv/bin/python" -c 'import os, sys, sysconfig
print(os.path.relpath(sysconfig.get_paths()["purelib"], sys.prefix))')
    mkdir -p "$tmp/lib"
    ln -sfn "$site/torch/include" "$tmp/include"
    for f in libc10.so libtorch_cpu.so libtorch.so libgomp.so.1 libshm.so; do
        ln -sf "../$site/torch/lib/$f" "$tmp/lib/$f"
    done
    ln -sf "../$site/nvidia/cuda_runtime/lib/libcudart.so.12" "$tmp/lib/libcudart.so.12"
    ln -sf "../$site/nvidia/cuda_cupti/lib/libcupti.so.12" "$tmp/lib/libcupti.so.12"
    for f in include/torch lib/libtorch_cpu.so lib/libcudart.so.12 lib/libcupti.so.12; do
        [ -e "$tmp/$f" ] || { echo "ceq: the torch install in $tmp lacks $f" >&2; exit 1; }
    done
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    mv "$tmp" "$dir"
fi
# Quoted for the shell that evaluates it, whatever DIR holds.
echo "export LIBTORCH=$(printf '%q' "$dir")"
echo "export LD_LIBRARY_PATH=$(printf '%q' "$dir/lib")\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
