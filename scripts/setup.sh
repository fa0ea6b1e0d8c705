#!/usr/bin/env bash
# One-shot set-up on a fresh Debian machine: system packages, npm packages, the libtorch addon, the build.
# Idempotent: re-running skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
if [ -z "${LIBTORCH:-}" ] && [ ! -f /usr/include/torch/csrc/api/include/torch/torch.h ]; then need_apt+=(libtorch-dev); fi
# Debian's libtorch calls the system BLAS; without OpenBLAS that is the reference BLAS, ~100x slower at matmul.
# The OpenMP build shares libtorch's thread pool, so setNumThreads governs both.
if [ -z "${LIBTORCH:-}" ] && ! dpkg -s libopenblas0-openmp >/dev/null 2>&1; then need_apt+=(libopenblas0-openmp); fi
if [ "${DENSEKIT_SKIP_BROWSER:-}" != 1 ] && ! command -v chromium >/dev/null 2>&1; then need_apt+=(chromium); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${need_apt[*]} (apt)" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci (builds the libtorch addon)" >&2
  npm ci --no-audit --no-fund
elif [ ! -f build/Release/densekit.node ] || [ -n "$(find native binding.gyp -newer build/Release/densekit.node 2>/dev/null | head -1)" ]; then
  echo "setup: building the libtorch addon" >&2
  npx node-gyp rebuild -j 2
fi
echo "setup: compiling TypeScript" >&2
npx tsc -p tsconfig.json
