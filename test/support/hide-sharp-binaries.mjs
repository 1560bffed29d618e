// Preloaded (`node --import`) into a child process: its module resolution cannot find sharp's
// platform packages (@img/sharp-<platform>, @img/sharp-wasm32), as on a machine whose VSIX
// carries another platform's. sharp's own loader then fails exactly as it does there.
import Module from 'node:module';

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (/^@img\/sharp-(?!libvips)/.test(request)) {
    const e = new Error(`Cannot find module '${request}'`);
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  }
  return resolve.call(this, request, ...rest);
};
