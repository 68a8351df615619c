#!/usr/bin/env node
// Finds libtorch the way tch-rs does and writes libtorch.gypi for binding.gyp:
//   $LIBTORCH (a distribution with include/ and lib/, e.g. the one inside a pip torch wheel, CUDA or not), else
//   Debian's libtorch-dev (/usr/include/torch, /usr/lib/<multiarch>/libtorch.so).
// LIBTORCH_CXX11_ABI=0 selects the pre-C++11 string ABI that old pip wheels use (default 1).
'use strict';
const fs = require('fs');
const path = require('path');

function fail(msg) {
  console.error(`\nbatchcam: ${msg}\n` +
    'Install libtorch first, one of:\n' +
    '  sudo apt-get install -y libtorch-dev            (Debian/Ubuntu, CPU)\n' +
    '  export LIBTORCH=/path/to/libtorch               (a libtorch distribution or a pip torch wheel\'s torch/ folder,\n' +
    '                                                   holding include/ and lib/; use this for CUDA)\n' +
    'then run `npm ci` (or `npm rebuild batchcam`) again.\n');
  process.exit(1);
}

function findDebian() {
  const include = '/usr/include';
  if (!fs.existsSync(path.join(include, 'torch', 'csrc', 'autograd', 'autograd.h'))) return null;
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']) {
    if (fs.existsSync(path.join(dir, 'libtorch.so'))) {
      return { includes: [include, path.join(include, 'torch', 'csrc', 'api', 'include')], lib: dir };
    }
  }
  return null;
}

function findEnv(root) {
  const include = path.join(root, 'include');
  const lib = path.join(root, 'lib');
  if (!fs.existsSync(path.join(include, 'torch', 'csrc', 'autograd', 'autograd.h'))) {
    fail(`LIBTORCH=${root} has no include/torch/csrc/autograd/autograd.h.`);
  }
  if (!fs.existsSync(path.join(lib, 'libtorch.so'))) fail(`LIBTORCH=${root} has no lib/libtorch.so.`);
  return { includes: [include, path.join(include, 'torch', 'csrc', 'api', 'include')], lib };
}

const found = process.env.LIBTORCH ? findEnv(path.resolve(process.env.LIBTORCH)) : findDebian();
if (!found) fail('libtorch was not found (no $LIBTORCH, and Debian\'s libtorch-dev is not installed).');

const libs = [];
// Debian's libtorch takes whichever libblas.so.3 the alternatives system points at, often OpenBLAS's pthread build,
// whose own thread pool fights libtorch's OpenMP threads. Listing the OpenMP build first makes the loader bind
// libblas.so.3 to it for libtorch as well (same soname). BATCHCAM_BLAS=system keeps the system's choice.
const ompBlasDir = path.join(found.lib, 'openblas-openmp');
if (!process.env.LIBTORCH && process.env.BATCHCAM_BLAS !== 'system' && fs.existsSync(path.join(ompBlasDir, 'libblas.so.3'))) {
  const lapack = fs.existsSync(path.join(ompBlasDir, 'liblapack.so.3')) ? [path.join(ompBlasDir, 'liblapack.so.3')] : [];
  libs.push('-Wl,--no-as-needed', path.join(ompBlasDir, 'libblas.so.3'), ...lapack, '-Wl,--as-needed', `-Wl,-rpath,${ompBlasDir}`);
}
libs.push('-ltorch', '-ltorch_cpu', '-lc10');
if (fs.existsSync(path.join(found.lib, 'libtorch_cuda.so'))) {
  // Nothing references libtorch_cuda's symbols directly; keep it linked so CUDA kernels register.
  libs.push('-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed');
}
// c10d over Gloo (data-parallel training): Debian ships Gloo's library in libgloo0 and its headers in libgloo-dev;
// a pip wheel has both inside (headers in include/gloo, code in libtorch_cpu). Without them the addon builds
// without process groups and `--nproc-per-node`/RANK runs say so.
const defines = [];
const c10dHeader = path.join(found.includes[0], 'torch', 'csrc', 'distributed', 'c10d', 'ProcessGroupGloo.hpp');
const glooHeader = path.join(found.includes[0], 'gloo', 'allreduce.h');
if (process.env.BATCHCAM_C10D !== 'off' && fs.existsSync(c10dHeader) && fs.existsSync(glooHeader)) {
  if (process.env.LIBTORCH) {
    defines.push('USE_C10D_GLOO', 'USE_DISTRIBUTED');
  } else {
    const glooLib = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].find((d) => fs.existsSync(path.join(d, 'libgloo.so')));
    if (glooLib) {
      defines.push('USE_C10D_GLOO', 'USE_DISTRIBUTED');
      libs.push(`-L${glooLib}`, '-lgloo');
    }
  }
}
// c10d over NCCL (data-parallel training on GPUs): only for a CUDA libtorch built with NCCL, i.e. one with the
// ProcessGroupNCCL header AND its CUDA libraries (Debian's CPU libtorch ships the header but no CUDA libraries, so it
// never gets here), and only where nccl.h and the CUDA runtime headers are found (a pip wheel keeps them in
// site-packages/nvidia/*/include; a libtorch distribution uses $CUDA_HOME). Its symbols live in libtorch_cuda.
const ncclHeader = path.join(found.includes[0], 'torch', 'csrc', 'distributed', 'c10d', 'ProcessGroupNCCL.hpp');
const cudaLibs = ['libtorch_cuda.so', 'libc10_cuda.so'].every((f) => fs.existsSync(path.join(found.lib, f)));
const extraIncludes = [];
if (defines.includes('USE_C10D_GLOO') && process.env.BATCHCAM_NCCL !== 'off' && fs.existsSync(ncclHeader) && cudaLibs) {
  const nvidia = path.join(found.lib, '..', '..', 'nvidia');
  const candidates = [
    ...(fs.existsSync(nvidia) ? fs.readdirSync(nvidia).map((d) => path.join(nvidia, d, 'include')) : []),
    ...[process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda'].filter(Boolean).map((d) => path.join(d, 'include')),
    '/usr/include',
  ];
  const dirOf = (file) => candidates.find((d) => fs.existsSync(path.join(d, file)));
  const needed = ['nccl.h', 'cuda_runtime_api.h'].map((f) => [f, dirOf(f)]);
  const missing = needed.filter(([, d]) => !d).map(([f]) => f);
  if (missing.length) {
    console.warn(`batchcam: a CUDA libtorch with NCCL, but ${missing.join(' and ')} not found (set CUDA_HOME): building without --dist-backend nccl`);
  } else {
    defines.push('USE_C10D_NCCL');
    for (const [, d] of needed) if (!extraIncludes.includes(d) && !found.includes.includes(d)) extraIncludes.push(d);
  }
}
if (!defines.length) console.warn('batchcam: Gloo headers not found (apt-get install libgloo-dev): building without data-parallel training');
const abi = process.env.LIBTORCH_CXX11_ABI === '0' ? '0' : '1';
const gypi = {
  variables: {
    torch_include_dirs: [...found.includes, ...extraIncludes, path.dirname(require.resolve('node-addon-api/package.json'))],
    torch_lib_dir: found.lib,
    torch_libraries: [`-L${found.lib}`, ...libs],
    torch_cxx11_abi: abi,
    torch_defines: defines,
  },
};
fs.writeFileSync(path.join(__dirname, 'libtorch.gypi'), JSON.stringify(gypi, null, 2) + '\n');
console.log(`batchcam: building against libtorch in ${found.lib}${libs.includes('-ltorch_cuda') ? ' (CUDA)' : ''}${defines.length ? ' with c10d/Gloo' : ''}${defines.includes('USE_C10D_NCCL') ? '+NCCL' : ''}`);
