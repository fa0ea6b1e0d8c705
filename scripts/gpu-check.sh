#!/usr/bin/env bash
# The GPU issue's device check, run as ONE command on the GPU machine after test/gpu-pack.sh ran here:
#   bash scripts/gpu-check.sh            (results and logs under $OUT, else out/gpu-check)
# It builds the addon against the machine's own libtorch (the one inside its PyTorch wheel, with CUDA) without
# node-gyp (which needs the network for Node's headers), then runs the oracle parity cases on the device, the bf16
# check, and bench:encode on the device. Each step's log is kept; a failing step does not stop the later ones.
# DENSEKIT_GPU_CHECK_DEVICE=cpu runs the same steps on a CPU machine against Debian's libtorch (how it is tested).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/out/gpu-check}
DEVICE=${DENSEKIT_GPU_CHECK_DEVICE:-cuda}
mkdir -p "$OUT"
[ -f .gpu/node/bin/node.xz ] && xz -dk .gpu/node/bin/node.xz
export PATH="$PWD/.gpu/node/bin:$PATH"
status=0
log() { echo "gpu-check: $*" | tee -a "$OUT/summary.txt"; }
step() {
  local name=$1; shift
  local start=$SECONDS
  log "$name: $*"
  "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  [ $rc -ne 0 ] && status=1
  log "$name: exit $rc after $((SECONDS - start)) s"
}

{ nvidia-smi || echo "no nvidia-smi"; node --version; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' || true; } >"$OUT/machine.txt" 2>&1

if [ "$DEVICE" = cpu ]; then
  unset LIBTORCH
else
  LIBTORCH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))') || { log "no PyTorch to build against"; exit 1; }
  export LIBTORCH
fi

build() {
  # The flags binding.gyp gives node-gyp, from the same native/libtorch-flags.cjs.
  local inc libs abi
  inc=$(node native/libtorch-flags.cjs include) && libs=$(node native/libtorch-flags.cjs libs) && abi=$(node native/libtorch-flags.cjs abi) || return 1
  mkdir -p build/Release
  # shellcheck disable=SC2086
  g++ -shared -fPIC -std=c++17 -O2 -fexceptions -frtti -Wno-unused-parameter -Wno-deprecated-declarations \
    -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED -D_GLIBCXX_USE_CXX11_ABI="$abi" -DBUILDING_NODE_EXTENSION \
    -I"$PWD/.gpu/node/include/node" -I"$PWD/.gpu/node-addon-api" $(for d in $inc; do printf -- '-I%s ' "$d"; done) \
    native/densekit.cc -o build/Release/densekit.node $libs
}
[ -d dist ] || tar -xzf .gpu/dist.tgz
[ -d .gpu/shared ] && export DENSEKIT_SHARED="$PWD/.gpu/shared"
step build build
step libtorch node -e "import('./dist/src/tensor/index.js').then(t => console.log('libtorch', t.libtorchVersion(), 'cuda devices', t.cudaDeviceCount()))"
step parity env DENSEKIT_TEST_DEVICE="$DEVICE" node --test --test-concurrency=1 dist/test/models.parity.test.js
step bf16 node --test --test-concurrency=1 dist/test/models.bf16.test.js
log "done: $( [ $status -eq 0 ] && echo all steps passed || echo some steps failed, see the logs )"
exit $status
