// Prints the CUDA toolkit root for binding.gyp, or nothing when there is none
// (then the addon is built without CUDA and says so at run time).
// KVBENCH_CUDA=off forces a no-CUDA build; CUDA_HOME / CUDA_PATH pick a toolkit.
const fs = require('node:fs');
const path = require('node:path');

function find() {
  if ((process.env.KVBENCH_CUDA || '').toLowerCase() === 'off') return '';
  const candidates = [process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda'];
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, 'nvcc'))) candidates.push(path.dirname(dir));
  }
  for (const c of candidates) {
    if (!c) continue;
    if (fs.existsSync(path.join(c, 'bin', 'nvcc')) && fs.existsSync(path.join(c, 'lib64', 'libcudart_static.a'))) {
      return fs.realpathSync(c);
    }
  }
  return '';
}

process.stdout.write(find());
