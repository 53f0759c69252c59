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
if [ ! -e "$dir/lib/libtorch_cpu.so" ]; then
    echo "ceq: installing torch 2.9.0 (CPU libraries, about 1.9 GB) into $dir" >&2
    # Built beside DIR and moved into place whole, so an install cut short is redone, not reused.
    tmp="$dir.partial"
    rm -rf "$tmp"
    python3 -m venv "$tmp/venv"
    "$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        torch==2.9.0 nvidia-cuda-runtime-cu12==12.8.90 nvidia-cuda-cupti-cu12==12.8.90 >&2
    site=$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    site=${site#"$tmp/"}  # relative links survive the move
    mkdir -p "$tmp/lib"
    ln -sfn "$site/torch/include" "$tmp/include"
    for f in libc10.so libtorch_cpu.so libtorch.so libgomp.so.1 libshm.so; do
        ln -sf "../$site/torch/lib/$f" "$tmp/lib/$f"
    done
    ln -sf "../$site/nvidia/cuda_runtime/lib/libcudart.so.12" "$tmp/lib/libcudart.so.12"
    ln -sf "../$site/nvidia/cuda_cupti/lib/libcupti.so.12" "$tmp/lib/libcupti.so.12"
    test -e "$tmp/lib/libtorch_cpu.so" -a -e "$tmp/include/torch" -a -e "$tmp/lib/libcudart.so.12"
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    mv "$tmp" "$dir"
fi
echo "export LIBTORCH='$dir'"
echo "export LD_LIBRARY_PATH='$dir/lib'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
