// Prints compiler/linker flags for binding.gyp: `node native/libtorch-flags.cjs include|libs|abi`.
// With LIBTORCH set (a folder with include/ and lib/, e.g. .../site-packages/torch) it builds against that
// libtorch (rpath'ed, CUDA libraries linked when present); otherwise against Debian's libtorch-dev.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = process.env.LIBTORCH ? path.resolve(process.env.LIBTORCH) : '';
const what = process.argv[2];

function fail(message) {
  process.stderr.write(`libtorch-flags: ${message}\n`);
  process.exit(1);
}

function includeDirs() {
  // /usr/include itself is already a system include dir (adding it with -I breaks libstdc++'s include_next).
  if (!root) return ['/usr/include/torch/csrc/api/include'];
  const inc = path.join(root, 'include');
  if (!fs.existsSync(path.join(inc, 'ATen', 'ATen.h'))) fail(`LIBTORCH=${root} has no include/ATen/ATen.h`);
  return [inc, path.join(inc, 'torch', 'csrc', 'api', 'include')];
}

function libraries() {
  if (!root) return ['-Wl,--no-as-needed', '-ltorch', '-ltorch_cpu', '-lc10', '-Wl,--as-needed'];
  const lib = path.join(root, 'lib');
  if (!fs.existsSync(path.join(lib, 'libtorch_cpu.so'))) fail(`LIBTORCH=${root} has no lib/libtorch_cpu.so`);
  const names = ['torch', 'torch_cpu', 'c10'];
  // Without --no-as-needed the linker drops libtorch_cuda (nothing references it directly) and CUDA never registers.
  for (const optional of ['torch_cuda', 'c10_cuda']) {
    if (fs.existsSync(path.join(lib, `lib${optional}.so`))) names.push(optional);
  }
  return [`-L${lib}`, `-Wl,-rpath,${lib}`, '-Wl,--no-as-needed', ...names.map((n) => `-l${n}`), '-Wl,--as-needed'];
}

// The C++ ABI must match libtorch's: libraries built with the cxx11 ABI export std::__cxx11::basic_string symbols.
function cxx11Abi() {
  if (process.env.LIBTORCH_CXX11_ABI === '0' || process.env.LIBTORCH_CXX11_ABI === '1') return process.env.LIBTORCH_CXX11_ABI;
  if (!root) return '1';
  const c10 = fs.readFileSync(path.join(root, 'lib', 'libc10.so'));
  return c10.includes('St7__cxx1112basic_string') ? '1' : '0';
}

switch (what) {
  case 'include': console.log(includeDirs().join(' ')); break;
  case 'libs': console.log(libraries().join(' ')); break;
  case 'abi': console.log(cxx11Abi()); break;
  default: fail(`unknown query ${what} (include | libs | abi)`);
}
