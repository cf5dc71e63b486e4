#!/usr/bin/env node
// Static check of the Julia binding (issue 20): no Julia is installable on Debian 12, so the
// binding is parsed with tree-sitter's Julia grammar (npm tree-sitter-julia, WebAssembly, run by
// web-tree-sitter) and every ccall / @ccall is checked against include/nad/nad.h and the
// symbols the built library exports.
//
// Usage: check_julia.js --root SRC_ROOT --lib LIBNAD_SO [--tools DIR] [--self-test-only]
//   DIR holds node_modules/{web-tree-sitter,tree-sitter-julia} (scripts/setup-debian.sh puts them
//   in SRC_ROOT/.tools/node, the default). Exit 0: clean; 1: findings (file:line:col each);
//   77: skipped (the npm packages are missing), with the reason; 2: bad usage.
//
// What is checked, per .jl file of bindings/julia:
//   1. the file parses: no ERROR or MISSING node;
//   2. each ccall((:sym, lib), R, (T...), args...) and @ccall lib.sym(a::T...)::R: sym is declared
//      in nad.h and exported by the library, the number of argument types equals the number of
//      values and of C parameters, and each Julia type (after the binding's own aliases such as
//      `const nad_status = Cint`) matches the C type, the return type included;
//   3. enum constants (`const NAD_OK = nad_status(0)`) have nad.h's values, and every nad.h
//      function and enum constant is bound;
//   4. calls of the raw wrappers (`nad_x(...)` in LibNAD.jl) pass as many arguments as the
//      wrapper takes, name a defined wrapper, a @cfunction passed to a callback parameter has
//      the callback typedef's signature, and a buffer or Ref of evident element type passed to a
//      pointer parameter converts to the ccall's type (julia_values.js);
//   5. every name in an `export` list or a `using LibNAD: ...` is defined in the binding.
// Before that, crafted snippets with a syntax error, a wrong argument count, a wrong type and
// more must each be reported (the checker can fail), and a correct snippet must pass.
'use strict';
// The grammar is 6 MB of WebAssembly: V8's optimising tier compiles it in the background and
// exit waits for that (45 s of wall time on a loaded 2-core machine); the baseline compiler
// alone parses the binding in well under a second.
require('v8').setFlagsFromString('--liftoff-only');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const header = require('./nad_header.js');
const jtypes = require('./julia_ccall.js');

function parseArgs(argv) {
  const a = { root: null, lib: null, tools: null, selfTestOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--self-test-only') a.selfTestOnly = true;
    else if (['--root', '--lib', '--tools'].includes(k) && i + 1 < argv.length) {
      a[k.slice(2)] = argv[++i];
    }
    else throw new Error('unknown argument ' + k);
  }
  if (!a.root || !a.lib) throw new Error('--root and --lib are required');
  a.root = path.resolve(a.root);
  a.tools = path.resolve(a.tools || path.join(a.root, '.tools', 'node'));
  return a;
}

// web-tree-sitter + the Julia grammar, or null with the reason they cannot be loaded.
function findTools(dir) {
  const mods = path.join(dir, 'node_modules');
  const wts = path.join(mods, 'web-tree-sitter');
  const wasm = path.join(mods, 'tree-sitter-julia', 'tree-sitter-julia.wasm');
  if (!fs.existsSync(path.join(wts, 'package.json')) || !fs.existsSync(wasm)) {
    return { reason: 'web-tree-sitter and tree-sitter-julia are not installed in ' + dir +
                     ' (scripts/setup-debian.sh installs them)' };
  }
  return { wts, wasm };
}

async function loadParser(tools) {
  const Parser = require(tools.wts);
  await Parser.init();
  const lang = await Parser.Language.load(tools.wasm);
  const p = new Parser();
  p.setLanguage(lang);
  return p;
}

// Functions the library exports (nm -D --defined-only, code symbols; version suffixes dropped).
function exportedSymbols(lib) {
  const out = execFileSync('nm', ['-D', '--defined-only', lib], { encoding: 'utf8' });
  const set = new Set();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 3 && /^[TWi]$/.test(f[1])) set.add(f[2].replace(/@.*$/, ''));
  }
  return set;
}

function listJl(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listJl(p));
    else if (e.name.endsWith('.jl')) out.push(p);
  }
  return out.sort();
}

// ---- self-test: crafted snippets, each must be reported ----------------------------------------

// `f(a...) = ccall((:sym, libnad), R, (T...), a...)`
const cc = (sym, ret, types, vals) =>
  `f(${vals}) = ccall((:${sym}, libnad), ${ret}, (${types}), ${vals})\n`;
const PROGRESS = 'nad_estimator_set_progress(e, fn, u) = ccall((:nad_estimator_set_progress, ' +
  'libnad), Cint, (Ptr{Cvoid}, nad_progress_fn, Ptr{Cvoid}), e, fn, u)\n' +
  'const nad_progress_fn = Ptr{Cvoid}\n';
const progressCaller = (types) =>
  `function x(e)\n    cb = @cfunction(f, Cint, (${types}))\n` +
  '    nad_estimator_set_progress(e, cb, C_NULL)\nend\n';

const GOOD = 'mutable struct nad_arch end\nconst nad_status = Cint\nconst NAD_OK = nad_status(0)\n' +
  cc('nad_arch_num_outputs', 'nad_status', 'Ptr{nad_arch}, Ptr{Int64}', 'a, k') +
  'g(a) = @ccall libnad.nad_arch_destroy(a::Ptr{Cvoid})::Cvoid\n' +
  cc('nad_arch_builtin_name', 'Cstring', 'Int32,', 'n') +
  PROGRESS + progressCaller('Ptr{Cvoid}, Int64, Int64') +
  'nad_estimator_eigenvalues(e, dst, len) = ccall((:nad_estimator_eigenvalues, libnad), Cint, ' +
  '(Ptr{Cvoid}, Ptr{Cdouble}, Csize_t), e, dst, len)\n' +
  'function y(e)\n    v = Vector{Float64}(undef, 3)\n    nad_estimator_eigenvalues(e, v, 3)\nend\n';

const BAD = [
  ['syntax error', 'function f(\n', /syntax error/],
  ['unclosed parenthesis', 'x = (1 + 2\ny = 3\n', /syntax error/],
  ['wrong argument count', cc('nad_arch_destroy', 'Cvoid', 'Ptr{Cvoid}, Cint', 'a, b'),
   /nad_arch_destroy: 2 argument types, nad.h has 1 parameter/],
  ['types and values disagree', 'f(a) = ccall((:nad_arch_destroy, libnad), Cvoid, (Ptr{Cvoid},), a, 1)\n',
   /nad_arch_destroy: 1 argument types but 2 values/],
  ['1-tuple without comma', cc('nad_arch_destroy', 'Cvoid', 'Ptr{Cvoid}', 'a'),
   /not a tuple literal \(a 1-tuple needs a comma\)/],
  ['wrong type', cc('nad_arch_num_outputs', 'Cint', 'Ptr{Cvoid}, Ptr{Int32}', 'a, k'),
   /nad_arch_num_outputs: argument 2 \(k\) is Ptr\{Int32\}, C has int64_t \*/],
  ['wrong return type', cc('nad_version', 'Int32', '', ''),
   /nad_version: returns Int32, C returns uint32_t/],
  ['wrong @ccall type', 'f(s) = @ccall libnad.nad_status_string(s::Int64)::Cstring\n',
   /nad_status_string: argument 1 \(s\) is Int64, C has nad_status/],
  ['size_t as Int64', cc('nad_net_get_params', 'Cint', 'Ptr{Cvoid}, Ptr{Cfloat}, Int64', 'n, p, l'),
   /argument 3 \(len\) is Int64, C has size_t/],
  ['handle of another type', 'mutable struct nad_net end\n' +
   cc('nad_arch_num_outputs', 'Cint', 'Ptr{nad_net}, Ptr{Int64}', 'a, k'),
   /argument 1 \(a\) is Ptr\{nad_net\}, C has const nad_arch \*/],
  ['unknown Julia type', cc('nad_arch_destroy', 'Cvoid', 'Ptr{nad_arch},', 'a'),
   /unknown Julia type nad_arch/],
  ['unknown symbol', cc('nad_no_such_function', 'Cvoid', '', ''),
   /nad_no_such_function is not declared in nad.h/],
  ['wrong enum value', 'const nad_status = Cint\nconst NAD_ERR_IO = nad_status(7)\n',
   /NAD_ERR_IO = 7, nad.h has 6/],
  ['wrong wrapper arity', 'nad_arch_destroy(a) = ccall((:nad_arch_destroy, libnad), Cvoid, ' +
   '(Ptr{Cvoid},), a)\nx() = nad_arch_destroy(1, 2)\n',
   /nad_arch_destroy called with 2 arguments, its wrapper takes 1/],
  ['undefined wrapper', 'x() = nad_arch_destroyy(1)\n', /nad_arch_destroyy is not defined/],
  ['undefined export', 'module M\nexport f, g\nf() = 1\nend\n', /exports g, which is not defined/],
  ['buffer of another element type', 'nad_estimator_eigenvalues(e, dst, len) = ccall((' +
   ':nad_estimator_eigenvalues, libnad), Cint, (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t), e, dst, len)\n' +
   'function x(e)\n    v = Vector{Float32}(undef, 3)\n    nad_estimator_eigenvalues(e, v, 3)\nend\n',
   /argument 2 \(dst\) passes Ptr\{Float32\}, its ccall takes Ptr\{Cdouble\}/],
  ['callback signature', PROGRESS + progressCaller('Ptr{Cvoid}, Int32, Int64'),
   /@cfunction for nad_progress_fn: argument 2 is Int32, C has int64_t/],
];

// The checker on the crafted snippets: each bad one reported, the good one clean.
function selfTest(parser, api, exported) {
  const fails = [];
  const run = (text, exp) => jtypes.checkFiles(parser, [{ name: 'snippet.jl', text }], api, exp, false);
  const good = run(GOOD, exported);
  if (good.length) fails.push('correct snippet reported: ' + good.join('; '));
  const notExported = new Set(exported);
  notExported.delete('nad_arch_destroy');
  if (!run(GOOD, notExported).some((m) => /nad_arch_destroy is not exported/.test(m))) {
    fails.push('unexported symbol not reported');
  }
  for (const [what, text, want] of BAD) {
    const got = run(text, exported);
    if (!got.some((m) => want.test(m))) {
      fails.push(`${what} not reported (got: ${got.join('; ') || 'nothing'})`);
    }
  }
  return { fails, count: BAD.length + 2 };
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error('check_julia.js: ' + e.message);
    return 2;
  }
  const tools = findTools(args.tools);
  if (tools.reason) {
    console.log('SKIP: ' + tools.reason);
    return 77;
  }
  const t0 = Date.now();
  const parser = await loadParser(tools);
  const hpath = path.join(args.root, 'include', 'nad', 'nad.h');
  const api = header.parseHeader(fs.readFileSync(hpath, 'utf8'));
  const exported = exportedSymbols(args.lib);
  const st = selfTest(parser, api, exported);
  for (const f of st.fails) console.log('self-test FAILED: ' + f);
  console.log(`self-test: ${st.count - st.fails.length}/${st.count} crafted cases reported as expected`);
  if (args.selfTestOnly) return st.fails.length ? 1 : 0;
  const dir = path.join(args.root, 'bindings', 'julia');
  const files = listJl(dir).map((p) => ({ name: path.relative(args.root, p),
                                          text: fs.readFileSync(p, 'utf8') }));
  const found = jtypes.checkFiles(parser, files, api, exported, true);
  for (const m of found) console.log(m);
  const stats = jtypes.lastStats;
  console.log(`${files.length} .jl files, ${stats.ccalls} ccalls against ${api.funcs.size} nad.h ` +
              `functions and ${exported.size} exported symbols, ${stats.calls} wrapper calls ` +
              `(${stats.values} pointer arguments of known type): ` +
              `${found.length} findings (${Date.now() - t0} ms)`);
  return st.fails.length || found.length ? 1 : 0;
}

main().then((rc) => process.exit(rc), (e) => {
  console.error('check_julia.js: ' + (e && e.stack || e));
  process.exit(1);
});
