// TSTL plugin: the gateway's Lua is laid out by module, not by repository path. The program's
// root is the repository (it compiles the contract package beside the gateway), so TSTL would
// name modules "gateway-lua.src.handlers.purchase"; nginx requires "handlers.purchase" and
// "contract.sale". Each rename is applied to the file's path and to every require of it.
const path = require("path");

const RENAMES = [
  ["gateway-lua/src/", ""],
  ["contract/src/", "contract/"],
];

function renamePath(relative) {
  for (const [from, to] of RENAMES) if (relative.startsWith(from)) return to + relative.slice(from.length);
  return relative;
}

function renameModule(name) {
  return renamePath(name.replace(/\./g, "/")).replace(/\//g, ".");
}

module.exports = {
  beforeEmit(program, options, emitHost, result) {
    const outDir = options.outDir;
    for (const file of result) {
      file.outputPath = path.join(outDir, renamePath(path.relative(outDir, file.outputPath)));
      file.code = file.code.replace(/require\("([^"]+)"\)/g, (_, name) => `require("${renameModule(name)}")`);
    }
  },
};
