// What a Julia argument passes to a pointer parameter, when the code says it plainly: the
// canonical 'Ptr{T}' of Ref{T}(...), zeros(T, ...), Vector/Array/Matrix{T}(...), convert(Array{T},
// ...), T[...], Ptr{T}(...), pointer(a), similar(a), c ? a : b, or of a variable of the same
// function assigned only such expressions before the call. Anything else is unknown (unchecked).
// ccall converts Ref{T} and Array{T} only to Ptr{T} (or Ptr{Cvoid}): another T is a MethodError
// at run time, which is what this catches without Julia.
'use strict';
const { named, jType, scopeOf } = require('./julia_check.js');

const ARRAYS = new Set(['Ref', 'Vector', 'Array', 'Matrix', 'Ptr']);

// Element type of a type expression `T`, `Array{T}`, `Array{T,N}` (head in `heads`), or null.
function elementOf(node, env, heads) {
  if (node.type !== 'parametrized_type_expression') return null;
  const [head, curly] = named(node);
  if (!heads.has(head.text) || !curly || !named(curly)[0]) return null;
  const t = jType(named(curly)[0], env);
  return t.err ? null : t.t;
}

function callTypes(node, env, depth) {
  const [callee, alist] = named(node);
  const args = alist ? named(alist) : [];
  const el = elementOf(callee, env, ARRAYS);
  if (el) return ['Ptr{' + el + '}'];
  if (callee.type !== 'identifier' || !args[0]) return [];
  if (['zeros', 'ones'].includes(callee.text) && args.length > 1) {
    const t = jType(args[0], env);
    return t.err ? [] : ['Ptr{' + t.t + '}'];
  }
  if (callee.text === 'convert') {
    const e = elementOf(args[0], env, new Set(['Vector', 'Array', 'Matrix']));
    return e ? ['Ptr{' + e + '}'] : [];
  }
  if (['pointer', 'similar'].includes(callee.text)) return argTypes(args[0], env, depth + 1);
  return [];
}

// Types a variable holds at `use`: those of its earlier assignments in the function, [] if any
// of them is unknown.
function varTypes(use, env, depth) {
  const out = [];
  for (const a of scopeOf(use).descendantsOfType('assignment')) {
    if (a.startIndex >= use.startIndex) continue;
    const [lhs, , rhs] = named(a);
    if (!lhs || !rhs) continue;
    let value = null;
    if (lhs.type === 'identifier' && lhs.text === use.text) value = rhs;
    else if (lhs.type === 'open_tuple' && rhs.type === 'open_tuple') {
      const k = named(lhs).findIndex((x) => x.type === 'identifier' && x.text === use.text);
      if (k >= 0) value = named(rhs)[k] || null;
    } else if (lhs.type === 'open_tuple' && named(lhs).some((x) => x.text === use.text)) return [];
    if (!value) continue;
    const t = argTypes(value, env, depth + 1);
    if (!t.length) return [];
    out.push(...t);
  }
  return out;
}

// The canonical pointer types an argument expression may pass ([] = unknown).
function argTypes(node, env, depth = 0) {
  if (depth > 6) return [];
  switch (node.type) {
    case 'identifier':
      return node.text === 'C_NULL' ? [] : varTypes(node, env, depth);
    case 'call_expression':
      return callTypes(node, env, depth);
    case 'ternary_expression': {
      const [, a, b] = named(node);
      const ta = argTypes(a, env, depth + 1);
      const tb = argTypes(b, env, depth + 1);
      return ta.length && tb.length ? ta.concat(tb) : [];
    }
    case 'index_expression': {  // T[...], T[x for x in ...]
      const head = named(node)[0];
      const t = head.type === 'identifier' ? jType(head, env) : { err: true };
      return t.err ? [] : ['Ptr{' + t.t + '}'];
    }
    default:
      return [];
  }
}

// Does ccall accept a value of pointer type `passed` for the declared type `declared`?
function converts(passed, declared) {
  if (passed === declared || declared === 'Ptr{Cvoid}' || passed === 'Ptr{Cvoid}') return true;
  return declared === 'Cstring' && ['Ptr{UInt8}', 'Ptr{Int8}'].includes(passed);
}

module.exports = { argTypes, converts };
