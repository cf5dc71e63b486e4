// checkFiles: the checks of check_julia.js (its header lists them) over a set of Julia sources.
'use strict';
const { named, cAccepts, jType, loc, scopeOf, syntaxErrors, collectDecls } = require('./julia_check.js');
const { argTypes, converts } = require('./julia_values.js');

const lastStats = { ccalls: 0, calls: 0, values: 0 };

// {name, ret, types, values} of `ccall((:sym, lib), R, (T...), v...)`, or {err}.
function readCcall(node) {
  const args = named(named(node)[1]);
  if (args.length < 3) return { err: 'ccall needs a symbol, a return type and argument types' };
  let spec = args[0];
  if (spec.type === 'tuple_expression') spec = named(spec)[0];
  if (!spec || spec.type !== 'quote_expression') {
    return { err: 'cannot read the ccall symbol ' + args[0].text };
  }
  if (args[2].type !== 'tuple_expression') {
    const hint = args[2].type === 'parenthesized_expression' ? ' (a 1-tuple needs a comma)' : '';
    return { err: `the argument types ${args[2].text} are not a tuple literal${hint}` };
  }
  return { name: spec.text.replace(/^:/, ''), ret: args[1], types: named(args[2]),
           values: args.slice(3) };
}

// The same for `@ccall lib.sym(v::T, ...)::R`.
function readAtCcall(node) {
  const body = named(node).find((c) => c.type === 'macro_argument_list');
  const te = body && named(body)[0];
  if (!te || te.type !== 'typed_expression') return { err: '@ccall without a return type' };
  const [call, ret] = named(te);
  if (!call || call.type !== 'call_expression') return { err: 'cannot read the @ccall' };
  const [callee, alist] = named(call);
  const name = callee.type === 'field_expression' ? named(callee).slice(-1)[0].text : callee.text;
  const types = [];
  const values = [];
  for (const a of named(alist)) {
    if (a.type !== 'typed_expression') return { err: '@ccall argument ' + a.text + ' has no type' };
    values.push(named(a)[0]);
    types.push(named(a)[1]);
  }
  return { name, ret, types, values };
}

function macroName(node) {
  const m = named(node).find((c) => c.type === 'macro_identifier');
  return m ? m.text : '';
}

// ccall and @ccall expressions under a node, read: {node, name, ret, types, values} or {node, err}.
function findCcalls(root) {
  const out = [];
  for (const n of root.descendantsOfType(['call_expression', 'macrocall_expression'])) {
    let c = null;
    if (n.type === 'call_expression' && named(n)[0] && named(n)[0].text === 'ccall') {
      c = readCcall(n);
    } else if (n.type === 'macrocall_expression' && macroName(n) === '@ccall') {
      c = readAtCcall(n);
    }
    if (c) out.push(Object.assign({ node: n }, c));
  }
  return out;
}

// Julia return type and argument types against C's: `what(i)` names argument i (-1: the return).
function checkTypes(file, prefix, jret, jtypes, cret, cparams, what, api, env, out) {
  const pairs = [[jret, cret, -1]].concat(jtypes.map((t, i) => [t, cparams[i].type, i]));
  for (const [jnode, ctype, i] of pairs) {
    const j = jType(jnode, env);
    const verb = i < 0 ? 'returns ' : what(i) + ' is ';
    if (j.err) out.push(`${loc(file, jnode)}: ${prefix}: ${verb}${jnode.text}: ${j.err}`);
    else if (!cAccepts(ctype, api).includes(j.t)) {
      const c = (i < 0 ? 'C returns ' : 'C has ') + ctype.text;
      out.push(`${loc(file, jnode)}: ${prefix}: ${verb}${jnode.text}, ${c}`);
    }
  }
}

// Findings for one ccall against nad.h and the exported symbols.
function checkCcall(file, c, api, exported, env, out) {
  const at = loc(file, c.node);
  const f = api.funcs.get(c.name);
  if (!f) {
    out.push(`${at}: ${c.name} is not declared in nad.h`);
    return;
  }
  const h = ' (nad.h:' + f.line + ')';
  if (!exported.has(c.name)) out.push(`${at}: ${c.name} is not exported by the library`);
  if (c.types.length !== c.values.length) {
    out.push(`${at}: ${c.name}: ${c.types.length} argument types but ${c.values.length} values`);
  }
  const n = f.params.length;
  if (c.types.length !== n) {
    out.push(`${at}: ${c.name}: ${c.types.length} argument types, nad.h has ${n} ` +
             `parameter${n === 1 ? '' : 's'}${h}`);
    return;
  }
  const what = (i) => `argument ${i + 1} (${f.params[i].name})`;
  const found = [];
  checkTypes(file, c.name, c.ret, c.types, f.ret, f.params, what, api, env, found);
  out.push(...found.map((m) => m + h));
}

// `const NAD_X = nad_enum(v)`: nad.h's value, a Cint. Returns the names seen.
function checkEnumConsts(env, api, out) {
  const seen = new Set();
  for (const k of env.consts) {
    const e = api.enumConsts.get(k.name);
    if (!e) continue;
    seen.add(k.name);
    let t = 'Int32';
    let v = k.rhs;
    if (v.type === 'call_expression') {
      const [callee, args] = named(v);
      const ty = jType(callee, env);
      t = ty.err ? callee.text : ty.t;
      v = named(args)[0];
    }
    const at = loc(k.file, k.node);
    const num = v ? Number(v.text.replace(/\s+/g, '')) : NaN;
    if (t !== 'Int32') {
      out.push(`${at}: ${k.name} is a ${t}, nad.h's enum ${e.enumName} is a C int (Cint)`);
    }
    if (e.value !== null && num !== e.value) {
      out.push(`${at}: ${k.name} = ${v ? v.text : '?'}, nad.h has ${e.value}`);
    }
  }
  return seen;
}

// The types of a @cfunction(f, R, (T...)) against a callback typedef.
function checkCfunction(file, cf, cbName, api, env, out) {
  const cb = api.callbacks.get(cbName);
  const args = named(named(cf).find((c) => c.type === 'argument_list'));
  if (args.length !== 3 || args[2].type !== 'tuple_expression') {
    out.push(loc(file, cf) + ': cannot read the @cfunction ' + cf.text.slice(0, 40));
    return;
  }
  const types = named(args[2]);
  const prefix = '@cfunction for ' + cbName;
  if (types.length !== cb.params.length) {
    out.push(`${loc(file, cf)}: ${prefix} has ${types.length} argument types, ` +
             `C has ${cb.params.length}`);
    return;
  }
  checkTypes(file, prefix, args[1], types, cb.ret, cb.params, (i) => `argument ${i + 1}`,
             api, env, out);
}


const isCfunction = (n) => n && n.type === 'macrocall_expression' && macroName(n) === '@cfunction';

// @cfunction node an argument stands for: itself, or `name = @cfunction(...)` in its scope.
function cfunctionOf(arg) {
  if (isCfunction(arg)) return arg;
  if (arg.type !== 'identifier') return null;
  for (const a of scopeOf(arg).descendantsOfType('assignment')) {
    const [lhs, , rhs] = named(a);
    if (lhs && lhs.text === arg.text && isCfunction(rhs)) return rhs;
  }
  return null;
}

// Is this call the signature of a definition (`function nad_x(a)` or `nad_x(a) = ...`)?
function isSignature(call) {
  let p = call.parent;
  while (p && (p.type === 'typed_expression' || p.type === 'where_expression')) p = p.parent;
  if (!p) return false;
  if (p.type === 'signature') return true;
  return p.type === 'assignment' && named(p)[0].startIndex === call.startIndex;
}

// A @cfunction passed as argument i of wrapper w: checked against the C parameter it reaches.
function checkCallback(file, w, i, cf, api, env, out) {
  const cc = findCcalls(w.node)[0];
  const f = cc && !cc.err && api.funcs.get(cc.name);
  const vi = f ? cc.values.findIndex((v) => v.text === w.names[i]) : -1;
  const ctype = vi >= 0 && vi < f.params.length ? f.params[vi].type : null;
  if (ctype && ctype.depth === 0 && api.callbacks.has(ctype.base)) {
    checkCfunction(file, cf, ctype.base, api, env, out);
  } else if (ctype && !(ctype.base === 'void' && ctype.depth === 1)) {
    out.push(loc(file, cf) + ': a @cfunction is passed where C has ' + ctype.text);
  }
}

// A pointer argument of a wrapper call: what it passes converts to the ccall's declared type.
function checkValue(file, name, w, i, arg, env, out) {
  if (w.ccall === undefined) w.ccall = findCcalls(w.node).find((c) => !c.err) || null;
  const cc = w.ccall;
  const vi = cc ? cc.values.findIndex((v) => v.text === w.names[i]) : -1;
  if (vi < 0 || !cc.types[vi]) return;
  const decl = jType(cc.types[vi], env);
  if (decl.err || !(decl.t.startsWith('Ptr{') || decl.t === 'Cstring')) return;
  for (const t of argTypes(arg, env)) {
    lastStats.values++;
    if (!converts(t, decl.t)) {
      out.push(`${loc(file, arg)}: ${name}: argument ${i + 1} (${w.names[i]}) passes ` +
               `${t.replace(/struct:/g, '')}, its ccall takes ${cc.types[vi].text}`);
    }
  }
}

// Calls of the raw wrappers nad_x(...): defined, arity, callbacks. Returns the number checked.
function checkWrapperCalls(file, root, env, api, out) {
  let n = 0;
  for (const call of root.descendantsOfType('call_expression')) {
    const [callee, alist] = named(call);
    if (!callee || callee.type !== 'identifier' || !/^nad_/.test(callee.text) || !alist) continue;
    const name = callee.text;
    if (isSignature(call) || env.aliases.has(name) || env.structs.has(name)) continue;
    const ws = env.wrappers.get(name);  // (an alias call is a conversion: nad_status(0))
    if (!ws) {
      out.push(loc(file, call) + ': ' + name + ' is not defined in bindings/julia');
      continue;
    }
    n++;
    const args = named(alist);
    const plain = args.every((a) => a.type !== 'splat_expression' && a.type !== 'named_argument');
    if (ws.length !== 1 || ws[0].arity === null || !plain) continue;
    const w = ws[0];
    if (args.length !== w.arity) {
      out.push(`${loc(file, call)}: ${name} called with ${args.length} arguments, ` +
               `its wrapper takes ${w.arity} (${loc(w.file, w.node)})`);
      continue;
    }
    args.forEach((a, i) => {
      const cf = cfunctionOf(a);
      if (cf) checkCallback(file, w, i, cf, api, env, out);
      else checkValue(file, name, w, i, a, env, out);
    });
  }
  return n;
}

// Names exported (`export a, b`) or imported from the binding (`using LibNAD: a`) are defined.
function checkNames(file, root, env, out) {
  const known = (n) => env.defs.has(n) || env.structs.has(n) || env.consts.some((c) => c.name === n);
  for (const e of root.descendantsOfType('export_statement')) {
    for (const id of named(e)) {
      if (id.type === 'identifier' && !known(id.text)) {
        out.push(`${loc(file, id)}: exports ${id.text}, which is not defined in bindings/julia`);
      }
    }
  }
  for (const u of root.descendantsOfType('selected_import')) {
    const [mod, ...names] = named(u);
    if (!mod || !env.defs.has(mod.text)) continue;  // another module's names
    for (const id of names) {
      if (id.type === 'identifier' && !known(id.text)) {
        out.push(`${loc(file, id)}: imports ${id.text} from ${mod.text}, which does not define it`);
      }
    }
  }
}

// Every nad.h function has a ccall, every enum constant a Julia constant.
function checkComplete(api, bound, consts, out) {
  for (const [name, f] of api.funcs) {
    if (!bound.has(name)) out.push(`include/nad/nad.h:${f.line}: ${name} has no ccall in bindings/julia`);
  }
  for (const [name, e] of api.enumConsts) {
    if (!consts.has(name)) out.push(`include/nad/nad.h: ${name} (${e.enumName}) has no Julia constant`);
  }
}

// All findings for the Julia sources `files` ({name, text}); `complete`: also require every nad.h
// function and enum constant to be bound.
function checkFiles(parser, files, api, exported, complete) {
  const out = [];
  const trees = files.map((f) => ({ name: f.name, tree: parser.parse(f.text) }));
  for (const t of trees) if (t.tree.rootNode.hasError) syntaxErrors(t.name, t.tree.rootNode, out);
  const env = collectDecls(trees);
  const bound = new Set();
  lastStats.ccalls = 0;
  lastStats.calls = 0;
  lastStats.values = 0;
  for (const { name: file, tree } of trees) {
    for (const c of findCcalls(tree.rootNode)) {
      if (c.err) {
        out.push(loc(file, c.node) + ': ' + c.err);
        continue;
      }
      lastStats.ccalls++;
      bound.add(c.name);
      checkCcall(file, c, api, exported, env, out);
    }
    lastStats.calls += checkWrapperCalls(file, tree.rootNode, env, api, out);
    checkNames(file, tree.rootNode, env, out);
  }
  const consts = checkEnumConsts(env, api, out);
  if (complete) checkComplete(api, bound, consts, out);
  for (const t of trees) t.tree.delete();
  return out;
}

module.exports = { lastStats, checkFiles };
