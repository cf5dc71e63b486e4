// The checks of check_julia.js on parsed Julia (tree-sitter-julia trees) against nad.h (nad_header.js).
// Julia types are compared in a canonical spelling: Cint and Int32 are 'Int32', Cdouble is 'Float64',
// Ref{T} is Ptr{T}, a binding alias (`const nad_status = Cint`) is what it stands for, and a
// declared mirror struct (`mutable struct nad_arch end`) is 'struct:nad_arch'.
'use strict';

const JULIA_NAMES = {
  Int8: 'Int8', UInt8: 'UInt8', Cchar: 'Cchar', Cuchar: 'UInt8', Int16: 'Int16', UInt16: 'UInt16',
  Cshort: 'Int16', Cushort: 'UInt16', Int32: 'Int32', Cint: 'Int32', UInt32: 'UInt32', Cuint: 'UInt32',
  Int64: 'Int64', Clonglong: 'Int64', UInt64: 'UInt64', Culonglong: 'UInt64', Int: 'Int', UInt: 'UInt',
  Clong: 'Clong', Culong: 'Culong', Csize_t: 'Csize_t', Cssize_t: 'Cssize_t', Float32: 'Float32',
  Cfloat: 'Float32', Float64: 'Float64', Cdouble: 'Float64', Cvoid: 'Cvoid', Nothing: 'Cvoid',
  Cstring: 'Cstring', Bool: 'Bool', Any: 'Any',
};
const C_SCALARS = {
  int8_t: 'Int8', uint8_t: 'UInt8', int32_t: 'Int32', int: 'Int32', uint32_t: 'UInt32',
  unsigned: 'UInt32', int64_t: 'Int64', uint64_t: 'UInt64', float: 'Float32', double: 'Float64',
  size_t: 'Csize_t', void: 'Cvoid',
};

const named = (n) => n.namedChildren.filter((c) => !/comment/.test(c.type));
const wrap = (list, depth) => list.map((t) => 'Ptr{'.repeat(depth) + t + '}'.repeat(depth));

// Canonical Julia spellings the C type accepts.
function cAccepts(t, api) {
  if (t.base === 'char' && t.depth >= 1) {
    const s = ['Ptr{UInt8}', 'Ptr{Int8}', 'Ptr{Cchar}'].concat(t.isConst ? ['Cstring'] : []);
    return wrap(s, t.depth - 1);
  }
  if (api.handles.has(t.base)) {
    return t.depth ? wrap(['Ptr{struct:' + t.base + '}', 'Ptr{Cvoid}'], t.depth - 1) : [];
  }
  if (api.callbacks.has(t.base)) return wrap(['Ptr{Cvoid}'], t.depth);
  if (api.enums.has(t.base)) return wrap(['Int32'], t.depth);
  if (t.base in C_SCALARS) return wrap([C_SCALARS[t.base]], t.depth);
  return [];
}

// Canonical spelling of a Julia type expression, or {err}.
function jType(node, env, seen = new Set()) {
  if (node.type === 'identifier') {
    const n = node.text;
    if (n in JULIA_NAMES) return { t: JULIA_NAMES[n] };
    if (env.structs.has(n)) return { t: 'struct:' + n };
    if (env.aliases.has(n) && !seen.has(n)) {
      seen.add(n);
      return jType(env.aliases.get(n), env, seen);
    }
    return { err: 'unknown Julia type ' + n };
  }
  if (node.type === 'parametrized_type_expression') {
    const kids = named(node);
    const head = kids[0] && kids[0].text;
    const params = kids[1] ? named(kids[1]) : [];
    if ((head === 'Ptr' || head === 'Ref') && params.length === 1) {
      const inner = jType(params[0], env, seen);
      return inner.err ? inner : { t: 'Ptr{' + inner.t + '}' };
    }
    return { err: 'unsupported Julia type ' + node.text };
  }
  return { err: 'cannot read the type ' + node.text };
}

function loc(file, node) {
  return file + ':' + (node.startPosition.row + 1) + ':' + (node.startPosition.column + 1);
}

// Enclosing function definition of a node (or the file).
function scopeOf(node) {
  let n = node.parent;
  while (n && n.type !== 'function_definition' && n.type !== 'source_file') n = n.parent;
  return n;
}

// Every ERROR and MISSING node (only subtrees that have an error are walked).
function syntaxErrors(file, node, out) {
  if (node.isMissing) out.push(loc(file, node) + ': syntax error: missing ' + node.type);
  else if (node.type === 'ERROR') {
    out.push(`${loc(file, node)}: syntax error near "${node.text.slice(0, 40).split('\n')[0]}"`);
  }
  for (const c of node.children) if (c.hasError || c.isMissing) syntaxErrors(file, c, out);
}

// ---- declarations of the Julia files ------------------------------------------------------------

// Name and parameter nodes of a definition `function f(a, b)` or `f(a, b) = ...`, else null.
function definedCall(node) {
  let sig = null;
  if (node.type === 'function_definition') sig = named(node).find((c) => c.type === 'signature');
  else if (node.type === 'assignment') sig = { namedChildren: [named(node)[0]] };
  if (!sig) return null;
  let call = named(sig)[0];
  while (call && ['typed_expression', 'where_expression'].includes(call.type)) call = named(call)[0];
  if (!call || call.type !== 'call_expression') return null;
  const [callee, args] = named(call);
  if (!callee || callee.type !== 'identifier' || !args) return null;
  return { name: callee.text, call, params: named(args) };
}

function collectDecls(trees) {
  const env = { structs: new Set(), aliases: new Map(), consts: [], wrappers: new Map(), defs: new Set() };
  for (const { name: file, tree } of trees) {
    const root = tree.rootNode;
    for (const s of root.descendantsOfType('struct_definition')) {
      const head = named(s).find((c) => c.type === 'type_head');
      const id = head && head.descendantsOfType('identifier')[0];  // `S`, `S <: T`, `S{T}`
      if (id) env.structs.add(id.text);
    }
    for (const m of root.descendantsOfType(['macro_definition', 'module_definition'])) {
      const id = m.descendantsOfType('identifier')[0];
      if (id) env.defs.add((m.type === 'macro_definition' ? '@' : '') + id.text);
    }
    for (const c of root.descendantsOfType('const_statement')) {
      const a = named(c)[0];
      if (!a || a.type !== 'assignment') continue;
      const [lhs, , rhs] = named(a);
      if (!lhs || lhs.type !== 'identifier' || !rhs) continue;
      if (['identifier', 'parametrized_type_expression'].includes(rhs.type)) env.aliases.set(lhs.text, rhs);
      env.consts.push({ file, node: c, name: lhs.text, rhs });
    }
    for (const d of root.descendantsOfType(['function_definition', 'assignment'])) {
      const def = definedCall(d);
      if (!def) continue;
      env.defs.add(def.name);
      if (!/^nad_/.test(def.name)) continue;
      const simple = def.params.every((p) => p.type === 'identifier' || p.type === 'typed_expression');
      const names = def.params.map((p) => (p.type === 'typed_expression' ? named(p)[0].text : p.text));
      const list = env.wrappers.get(def.name) || [];
      list.push({ file, node: d, arity: simple ? def.params.length : null, names, call: def.call });
      env.wrappers.set(def.name, list);
    }
  }
  return env;
}

module.exports = { named, cAccepts, jType, loc, scopeOf, syntaxErrors, collectDecls, definedCall };
