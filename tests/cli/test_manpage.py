"""nad(1) covers the tool: every command that src/main.c dispatches has its own subsection in
the generated man page and its own `nad COMMAND --help`, every option that a command's parser
accepts (the cli_opt tables of src/*.c) is described in the page, and groff reads the page
without a warning. Args: NAD_EXECUTABLE NAD_1"""
import glob
import os
import re
import shutil
import sys

from nadtest import SOURCE_ROOT, check, finish, run

nad, page_path = sys.argv[1], sys.argv[2]
page = open(page_path, encoding='utf-8').read()
plain = page.replace('\\-', '-').replace('\\e', '\\').replace('\\&', '')
src = os.path.join(SOURCE_ROOT, 'src')

main_c = open(os.path.join(src, 'main.c'), encoding='utf-8').read()
commands = sorted(set(re.findall(r'strcmp\(cmd, "([a-z][a-z-]*)"\) == 0', main_c)) - {'version'})
check('commands found in main.c', len(commands) >= 7, commands)
subsections = re.findall(r'^\.SS "(.*)"$', plain, re.M)
for cmd in commands:
    check('man page has a subsection for %s' % cmd,
          any(s == 'nad ' + cmd or s.startswith('nad %s ' % cmd) for s in subsections), subsections)
    r = run(nad, cmd, '--help') if cmd != 'help' else run(nad, 'help')
    check('nad %s --help exits 0' % cmd, r.rc == 0, r.err)
    check('nad %s --help prints its usage' % cmd, ('nad ' + cmd) in r.out, r.out[:200])

options = set()
for path in glob.glob(os.path.join(src, '*.c')):
    options |= set(re.findall(r'\{"([a-z][a-z0-9-]*)", [01], ', open(path, encoding='utf-8').read()))
check('options found in src/cmd_*.c', len(options) >= 30, sorted(options))
for opt in sorted(options):
    check('man page documents --%s' % opt, re.search(r'--%s\b' % re.escape(opt), plain), '')

# groff-base is installed by scripts/setup-debian.sh: its absence fails the check, not skips it
check('groff installed (groff-base)', shutil.which('groff') is not None, 'apt-get install groff-base')
if shutil.which('groff'):
    r = run('groff', '-ww', '-z', '-man', page_path)
    check('groff reads nad.1 without warnings', r.rc == 0 and not r.err.strip(), r.err)
finish()
