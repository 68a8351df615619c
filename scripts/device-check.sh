#!/usr/bin/env bash
# GPU checks (issue 15), for a machine with an NVIDIA GPU and a pip `torch` with CUDA: builds the addon against that
# torch's libtorch (LIBTORCH), runs the CUDA checks (scripts/cuda-check.mjs: Batch-CAM vs the per-sample loop on the
# GPU, a GPU training run equal to the CPU one to 1e-4, checkpoints loadable on the CPU, evaluate on the GPU equal to
# the CPU's, an NCCL all-reduce/broadcast/all-gather with 1 GPU) and the bench on the GPU
# beside PyTorch CUDA. Meant to finish in under 8 minutes.
#
# UNVERIFIED: written on a CPU-only machine; it has never run on a GPU. Expect to fix details on first use.
# Usage: bash scripts/device-check.sh   (env: PYTHON=python3 with CUDA torch; OUT=dir for bench.json)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-.}
TORCH_DIR=$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
ABI=$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
"$PY" -c 'import torch; assert torch.cuda.is_available(), "this torch sees no GPU"; print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0))'
export LIBTORCH="$TORCH_DIR" LIBTORCH_CXX11_ABI="$ABI"
# pip wheels keep their CUDA runtime libraries next to torch (nvidia/*/lib); let the loader find them.
NV=$("$PY" -c 'import os, glob, torch; r=os.path.dirname(os.path.dirname(torch.__file__)); print(":".join(glob.glob(os.path.join(r, "nvidia", "*", "lib"))))')
export LD_LIBRARY_PATH="$TORCH_DIR/lib${NV:+:$NV}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -d node_modules ] || npm ci --ignore-scripts
node native/configure.cjs   # prints '… with c10d/Gloo+NCCL' when it found ProcessGroupNCCL, the CUDA libs and nccl.h
NODE_GYP=$(node -p 'require.resolve("npm/node_modules/node-gyp/bin/node-gyp.js", {paths: [require("path").dirname(process.execPath) + "/../lib/node_modules"]})' 2>/dev/null || echo "")
if [ -n "$NODE_GYP" ]; then node "$NODE_GYP" rebuild --directory native; else npx --yes node-gyp rebuild --directory native; fi
npx tsc -p tsconfig.json
time timeout 300 node --test --test-concurrency=1 scripts/cuda-check.mjs
# The training step on the GPU beside PyTorch CUDA (bench/torch_reference.py takes --device cuda).
time timeout 150 node dist/src/cli/main.js bench --device cuda --models simplecnn,resnet18 --rounds 2 --dp-steps 0 \
  --python "$PY" --json "$OUT/bench-cuda.json"
