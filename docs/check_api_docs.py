#!/usr/bin/env python3
"""The API reference check (test 'api-docs'): Doxygen over the public headers with
FAIL_ON_WARNINGS (an undocumented function, parameter, return value, type or macro is an
error), plus what Doxygen does not warn about: every enumerator of nad.h carries its own
documentation (/**< ... */ after it). Usage: check_api_docs.py DOXYGEN DOXYFILE NAD_H"""
import re
import subprocess
import sys

doxygen, doxyfile, header = sys.argv[1:4]
failed = 0
r = subprocess.run([doxygen, doxyfile], capture_output=True, text=True)
warnings = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
if r.returncode != 0 or warnings:
    print('doxygen: %d warning(s)' % len(warnings))
    print('\n'.join(warnings[:200]))
    failed += 1

text = open(header, encoding='utf-8').read()
undocumented = []
for block in re.findall(r'typedef enum \w+ \{(.*?)\}', text, re.S):
    # documented by /**< after it on its line, or by a /** ... */ block right before it
    for m in re.finditer(r'(/\*\*(?!<)(?:(?!\*/).)*\*/\s*)?^[ \t]*(NAD_\w+)\s*=\s*-?\d+,?[ \t]*(/\*\*<)?',
                         block, re.M | re.S):
        if not m.group(1) and not m.group(3):
            undocumented.append(m.group(2))
if undocumented:
    print('enumerators without /**< ... */: ' + ', '.join(undocumented))
    failed += 1
print('%d passed, %d failed' % (2 - failed, failed))
sys.exit(1 if failed else 0)
