#!/usr/bin/env python3
"""Generate bindings/julia/LibNAD/src/gen/libnad.jl, the raw ccall layer, from include/nad/nad.h.

Clang.jl (what e.g. HiGHS.jl uses) needs Julia, which is not installable here; nad.h is written in
a regular style (one NAD_API declaration per function, explicit enum values, a /** */ comment
before each declaration), so a small parser suffices. The output has one Julia function per C
function, with the C documentation as docstring, opaque structs for the handles and Cint
constants for the enums.

Usage: generate.py [--header include/nad/nad.h] [--output .../libnad.jl] [--check]
  --check: exit 1 (and say so) if the committed file differs from what would be generated.
Requires only the Python standard library.
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DEFAULT_HEADER = os.path.join(ROOT, 'include', 'nad', 'nad.h')
DEFAULT_OUTPUT = os.path.join(ROOT, 'bindings', 'julia', 'LibNAD', 'src', 'gen', 'libnad.jl')

SCALARS = {
    'void': 'Cvoid', 'char': 'Cchar', 'int': 'Cint', 'unsigned': 'Cuint', 'float': 'Cfloat',
    'double': 'Cdouble', 'size_t': 'Csize_t', 'int32_t': 'Int32', 'int64_t': 'Int64',
    'uint32_t': 'UInt32', 'uint64_t': 'UInt64',
}
JULIA_KEYWORDS = {'abstract', 'baremodule', 'begin', 'break', 'catch', 'const', 'continue', 'do',
                  'else', 'elseif', 'end', 'export', 'false', 'finally', 'for', 'function',
                  'global', 'if', 'import', 'let', 'local', 'macro', 'module', 'mutable',
                  'primitive', 'quote', 'return', 'struct', 'true', 'try', 'type', 'using',
                  'while'}


def strip_comments(text):
    return re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)


def parse(header_text):
    """{'functions': [(name, ret, [(type, name)], doc)], 'enums': [(name, [(k, v)])],
    'structs': [name], 'fnptrs': [name]} in header order."""
    out = {'functions': [], 'enums': [], 'structs': [], 'fnptrs': []}
    # opaque handles and function pointer typedefs
    code = strip_comments(header_text)
    out['structs'] = re.findall(r'typedef\s+struct\s+(\w+)\s+\1\s*;', code)
    out['fnptrs'] = re.findall(r'typedef\s+[\w\s\*]+\(\s*\*\s*(\w+)\s*\)\s*\([^)]*\)\s*;', code)
    for m in re.finditer(r'typedef\s+enum\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;', code, re.S):
        items = []
        for entry in m.group(2).split(','):
            entry = entry.strip()
            if not entry:
                continue
            em = re.fullmatch(r'(\w+)\s*=\s*(-?\d+)', entry)
            if not em:
                raise SystemExit('generate.py: enum %s: entry %r has no explicit value'
                                 % (m.group(1), entry))
            items.append((em.group(1), int(em.group(2))))
        out['enums'].append((m.group(3), items))
    # functions, each with the /** */ comment just before it
    pat = re.compile(r'(?:/\*\*(?P<doc>(?:(?!\*/).)*?)\*/\s*)?NAD_API\s+(?P<decl>[^;{]*?);', re.S)
    for m in pat.finditer(header_text):
        decl = ' '.join(m.group('decl').split())
        dm = re.fullmatch(r'(?P<ret>.+?)\s*\b(?P<name>nad_\w+)\s*\((?P<args>.*)\)', decl)
        if not dm:
            raise SystemExit('generate.py: cannot parse declaration %r' % decl)
        args = [] if dm.group('args').strip() in ('', 'void') else \
            [parse_param(a) for a in dm.group('args').split(',')]
        doc = clean_doc(m.group('doc') or '')
        out['functions'].append((dm.group('name'), dm.group('ret').strip(), args, doc))
    return out


def parse_param(text):
    """'const int64_t shape[3]' -> ('const int64_t *', 'shape')."""
    text = text.strip()
    m = re.fullmatch(r'(?P<type>.*?[\s\*])(?P<name>\w+)\s*(?P<arr>(\[\s*\w*\s*\])*)', text)
    if not m:
        raise SystemExit('generate.py: cannot parse parameter %r' % text)
    ctype = m.group('type').strip() + ' *' * m.group('arr').count('[')
    return (' '.join(ctype.replace('*', ' * ').split()), m.group('name'))


def clean_doc(doc):
    lines = [re.sub(r'^\s*\*?\s*', '', l) for l in doc.strip().splitlines()]
    return '\n'.join(l.rstrip() for l in lines).strip()


def julia_type(ctype, known):
    """C type -> Julia type for ccall. `const char *` is Cstring; a `char *` the library writes
    (an out-parameter such as `char **text`) is Ptr{Cchar}, since Cstring is for Julia strings
    passed in."""
    words = ctype.replace('*', ' * ').split()
    depth = words.count('*')
    base = [w for w in words if w not in ('*', 'const', 'struct', 'enum')]
    if len(base) != 1:
        raise SystemExit('generate.py: unsupported type %r' % ctype)
    base = base[0]
    if base == 'char' and depth >= 1:
        jt, depth = 'Cstring' if 'const' in words else 'Ptr{Cchar}', depth - 1
    elif base in SCALARS:
        jt = SCALARS[base]
    elif base in known:
        jt = base
    else:
        raise SystemExit('generate.py: unknown type %r in %r' % (base, ctype))
    for _ in range(depth):
        jt = 'Ptr{%s}' % jt
    return jt


def jl_name(name):
    return name + '_' if name in JULIA_KEYWORDS else name


def jl_doc(doc):
    return doc.replace('\\', '\\\\').replace('$', '\\$').replace('"""', '\\"\\"\\"')


def generate(header_text, header_name='include/nad/nad.h'):
    api = parse(header_text)
    known = set(api['structs']) | set(api['fnptrs']) | {e for e, _ in api['enums']}
    o = ['# Raw ccall layer of libnad, generated by bindings/julia/gen/generate.py from %s.'
         % header_name,
         '# Do not edit: regenerate with `python3 bindings/julia/gen/generate.py`.',
         '# One function per NAD_API declaration; `libnad` (the library path) is defined by the',
         '# including module. Handles are Ptr{<opaque struct>}, enums are Cint constants.', '']
    for s in api['structs']:
        o.append('mutable struct %s end' % s)
    o.append('')
    for f in api['fnptrs']:
        o.append('const %s = Ptr{Cvoid}' % f)
    o.append('')
    for ename, items in api['enums']:
        o.append('const %s = Cint' % ename)
        for k, v in items:
            o.append('const %s = %s(%d)' % (k, ename, v))
        o.append('')
    for name, ret, args, doc in api['functions']:
        sig = ', '.join(jl_name(a) for _, a in args)
        o.append('"""')
        o.append('    %s(%s)' % (name, sig))
        if doc:
            o.append('')
            o.append(jl_doc(doc))
        o.append('')
        o.append('C: `%s %s(%s)`' % (ret, name, ', '.join('%s %s' % a for a in args) or 'void'))
        o.append('"""')
        o.append('function %s(%s)' % (name, sig))
        types = ', '.join(julia_type(t, known) for t, _ in args)
        if len(args) == 1:
            types += ','
        call = 'ccall((:%s, libnad), %s, (%s)%s)' % (
            name, julia_type(ret, known), types, ''.join(', ' + jl_name(a) for _, a in args))
        o.append('    ' + call)
        o.append('end')
        o.append('')
    return '\n'.join(o).rstrip('\n') + '\n'


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--header', default=DEFAULT_HEADER)
    ap.add_argument('--output', default=DEFAULT_OUTPUT)
    ap.add_argument('--check', action='store_true')
    a = ap.parse_args(argv)
    with open(a.header, encoding='utf-8') as f:
        text = generate(f.read())
    if a.check:
        try:
            with open(a.output, encoding='utf-8') as f:
                old = f.read()
        except OSError:
            old = None
        if old != text:
            print('%s is out of date: run bindings/julia/gen/generate.py' % a.output)
            return 1
        print('%s is up to date' % a.output)
        return 0
    os.makedirs(os.path.dirname(a.output), exist_ok=True)
    tmp = a.output + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, a.output)
    print('wrote %s' % a.output)
    return 0


if __name__ == '__main__':
    sys.exit(main())
