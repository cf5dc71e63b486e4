#!/usr/bin/env python3
"""Generate the nad(1) man page from `nad --help`, so the page cannot drift from the tool.

`nad --help` is already laid out like a man page (NAME, SYNOPSIS, ... headings at column 0,
"  nad COMMAND ..." usage lines, "    --option ARG   text" option lines); this turns that layout
into roff. Usage: help2man.py NAD_EXECUTABLE VERSION OUTPUT
"""
import re
import subprocess
import sys

OPTION = re.compile(r"^    (-{1,2}\S.*?)(?: {2,}(\S.*))?$")  # "    --out DIR   text"
CONT = re.compile(r"^ {8,}(\S.*)$")  # continuation of an option's text


def esc(text):
    """Escape text for roff: backslashes, hyphens of options, leading dots."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text.startswith((".", "'")) else text


def convert(help_text, version):
    out = ['.TH NAD 1 "" "libnad %s" "User Commands"' % version]
    in_commands = False
    in_option = False
    for line in help_text.splitlines():
        if not line.strip():
            in_option = False
            continue
        if re.match(r"^[A-Z][A-Z ]+$", line):  # section heading
            out.append(".SH " + line.strip())
            in_commands = line.strip() == "COMMANDS"
            in_option = False
        elif in_commands and line.startswith("  nad"):  # one command's usage line
            words = line.split()
            title = ["nad"] + [w for w in words[1:3] if re.fullmatch(r"[a-z]+|--version", w)]
            if len(title) > 2 and not re.fullmatch(r"[a-z]+", words[2]):
                title = title[:2]
            out.append('.SS "%s"' % esc(" ".join(title)))
            out.append(".B " + esc(line.strip()))
            out.append(".PP")
            in_option = False
        elif in_commands and OPTION.match(line) and not line.startswith("     "):
            m = OPTION.match(line)
            name, text = m.group(1).strip(), m.group(2)
            if text is None and len(line) > 23 and line[22] == " ":  # text at its usual column
                name, text = line[:23].strip(), line[23:].strip()
            out.append(".TP")
            out.append(".B " + esc(name))
            if text:
                out.append(esc(text))
            in_option = True
        elif in_option and CONT.match(line):
            out.append(esc(CONT.match(line).group(1)))
        else:
            if in_option:
                out.append(".PP")
                in_option = False
            out.append(esc(line.strip()))
    out.append(".SH SEE ALSO")
    out.append("The C API is documented in nad/nad.h; examples are in share/doc/libnad/examples.")
    return "\n".join(out) + "\n"


def main():
    nad, version, output = sys.argv[1:4]
    text = subprocess.run([nad, "--help"], check=True, capture_output=True, text=True).stdout
    with open(output, "w", encoding="utf-8") as f:
        f.write(convert(text, version))


if __name__ == "__main__":
    main()
