// Reader of include/nad/nad.h for check_julia.js: the header's own style, exactly.
//   typedef struct X X;                 opaque handle
//   typedef enum X { A = 1, ... } X;    enum (explicit integer values)
//   typedef R (*X)(params);             callback
//   NAD_API R name(params);             function (up to the ';'; arrays are pointers)
// Comments and preprocessor lines are blanked (offsets and line numbers kept); upper-case macro
// tokens between NAD_API and the type (attributes such as a deprecation mark) are dropped.
'use strict';

const SCALARS = new Set(['void', 'char', 'int', 'unsigned', 'float', 'double', 'size_t',
  'int8_t', 'uint8_t', 'int32_t', 'int64_t', 'uint32_t', 'uint64_t']);

function blank(s) {
  return s.replace(/[^\n]/g, ' ');
}

function stripCode(text) {
  let t = text.replace(/\/\*[\s\S]*?\*\//g, blank).replace(/\/\/[^\n]*/g, blank);
  // preprocessor lines, continuations included
  t = t.replace(/^[ \t]*#(?:[^\n]*\\\n)*[^\n]*/gm, blank);
  return t;
}

function lineOf(text, offset) {
  let n = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

// 'const int64_t *' / 'int64_t shape[3]' -> {base, depth, isConst, text}
function parseCType(words, arrays) {
  const toks = words.replace(/\*/g, ' * ').split(/\s+/).filter(Boolean);
  const depth = toks.filter((w) => w === '*').length + arrays;
  // const qualifies the base type when it comes before the first '*'
  const star = toks.indexOf('*');
  const isConst = toks.indexOf('const') >= 0 && (star < 0 || toks.indexOf('const') < star);
  const base = toks.filter((w) => !['*', 'const', 'struct', 'enum'].includes(w));
  if (base.length === 2 && base[0] === 'unsigned' && base[1] === 'int') base.splice(1, 1);
  if (base.length !== 1) throw new Error('nad.h: cannot read the type "' + words + '"');
  const text = ((isConst ? 'const ' : '') + base[0] + ' ' + '*'.repeat(depth)).trim();
  return { base: base[0], depth, isConst, text };
}

// 'const int64_t shape[3]' -> {type, name}; 'void' alone -> null
function parseParam(p) {
  const s = p.trim().replace(/\s+/g, ' ');
  const m = /^(.*?[\s*])(\w+)\s*((?:\[\s*\w*\s*\])*)$/.exec(s);
  if (!m) {
    // unnamed parameter: the type alone
    return { type: parseCType(s, 0), name: '' };
  }
  const arrays = (m[3].match(/\[/g) || []).length;
  return { type: parseCType(m[1], arrays), name: m[2] };
}

function parseParams(s) {
  const t = s.trim();
  if (t === '' || t === 'void') return [];
  return t.split(',').map(parseParam);
}

function parseEnums(code, api) {
  const re = /typedef\s+enum\s*(\w*)\s*\{([^}]*)\}\s*(\w+)\s*;/g;
  let m;
  while ((m = re.exec(code))) {
    const values = new Map();
    let next = 0;
    for (const entry of m[2].split(',')) {
      const e = entry.trim();
      if (!e) continue;
      const em = /^(\w+)\s*(?:=\s*(.+))?$/.exec(e);
      if (!em) throw new Error('nad.h: enum ' + m[3] + ': cannot read "' + e + '"');
      let v = next;
      if (em[2] !== undefined) {
        const x = em[2].trim();
        if (/^-?(0x[0-9a-fA-F]+|\d+)$/.test(x)) v = parseInt(x);
        else if (api.enumConsts.has(x)) v = api.enumConsts.get(x).value;
        else v = null;  // an expression: the value is not checked
      }
      values.set(em[1], v);
      api.enumConsts.set(em[1], { enumName: m[3], value: v });
      next = v === null ? null : v + 1;
    }
    api.enums.set(m[3], values);
  }
}

// Index just past the parenthesised group opening at s[i] === '(' (nested groups included).
function skipParens(s, i) {
  let depth = 0;
  for (; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

// 'MACRO(...) nad_status nad_x(const float *U) MACRO' -> {ret, name, params}: upper-case macro
// tokens (attributes such as a deprecation mark, with their arguments) are dropped.
function splitDecl(d) {
  let s = d;
  for (let m; (m = /^(?:[A-Z][A-Z0-9_]*|__attribute__)\s*/.exec(s));) {
    s = s.slice(m[0].length);
    if (s[0] === '(') {
      const e = skipParens(s, 0);
      if (e < 0) return null;
      s = s.slice(e).trimStart();
    }
  }
  const nm = /\b(nad_\w+)\s*\(/.exec(s);
  if (!nm) return null;
  const open = nm.index + nm[0].length - 1;
  const close = skipParens(s, open);
  if (close < 0) return null;
  return { ret: s.slice(0, nm.index), name: nm[1], params: s.slice(open + 1, close - 1) };
}

function parseHeader(text) {
  const code = stripCode(text);
  const api = { funcs: new Map(), handles: new Set(), enums: new Map(), enumConsts: new Map(),
                callbacks: new Map(), scalars: SCALARS };
  let m;
  const hre = /typedef\s+struct\s+(\w+)\s+(\w+)\s*;/g;
  while ((m = hre.exec(code))) api.handles.add(m[2]);
  parseEnums(code, api);
  const cre = /typedef\s+([\w\s*]+?)\s*\(\s*\*\s*(\w+)\s*\)\s*\(([^)]*)\)\s*;/g;
  while ((m = cre.exec(code))) {
    api.callbacks.set(m[2], { ret: parseCType(m[1], 0), params: parseParams(m[3]) });
  }
  const fre = /\bNAD_API\b([^;{]*);/g;
  while ((m = fre.exec(code))) {
    const decl = splitDecl(m[1].replace(/\s+/g, ' ').trim());
    if (!decl) {
      throw new Error(`nad.h:${lineOf(text, m.index)}: cannot read the declaration "${m[1].trim()}"`);
    }
    api.funcs.set(decl.name, { ret: parseCType(decl.ret, 0), params: parseParams(decl.params),
                           line: lineOf(text, m.index) });
  }
  for (const f of api.funcs.values()) {
    for (const t of [f.ret, ...f.params.map((p) => p.type)]) checkKnown(api, t);
  }
  return api;
}

function checkKnown(api, t) {
  const b = t.base;
  if (!SCALARS.has(b) && !api.handles.has(b) && !api.enums.has(b) && !api.callbacks.has(b)) {
    throw new Error('nad.h: unknown type ' + b);
  }
}

module.exports = { parseHeader, parseCType };
