#!/usr/bin/env bash
# Installs what batchcam needs on Debian 12 (bookworm) and builds it: system packages, npm dependencies,
# the native addon (against Debian's libtorch-dev, or $LIBTORCH) and the TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
# libtorch-dev: the C++ engine. python3-torch, python3-torchvision, python3-skimage: the independent oracles the tests compare against.
# python3-colour: the colour scale of CDEP's ColorMNIST, for its generator test. dataset-fashion-mnist: the real Fashion-MNIST files. libopenblas0-openmp: fast Linear layers (else netlib BLAS).
# chromium: the headless-browser check of the HTML report. libgloo-dev: the headers of the Gloo library that
# libtorch-dev's c10d process groups use (data-parallel training).
$SUDO apt-get install -y -q libtorch-dev dataset-fashion-mnist python3-torch python3-skimage python3-numpy python3-pil python3-scipy python3-colour python3-torchvision \
  libopenblas0-openmp libgloo-dev chromium g++ make
npm ci
npm run build
