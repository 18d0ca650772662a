#!/usr/bin/env python3
"""Writes the secret-agent(1) man page from the command definitions.

    scripts/manpage.py PATH/TO/secret-agent > secret-agent.1

The commands, their flags and help come from the binary itself (swift-argument-parser's
`--experimental-dump-help`); the ENVIRONMENT and EXIT STATUS sections from the tables of
docs/cli.md, which a test keeps in step with the code. Nothing here is written by hand twice.
"""
import json
import os
import re
import subprocess
import sys


def roff(text):
    """Escapes text for roff: backslashes, and a leading dot or quote on a line."""
    text = text.replace("\\", "\\e")
    return "\n".join(("\\&" + line) if line[:1] in (".", "'") else line for line in text.split("\n"))


def flag_label(argument):
    names = argument.get("names", [])
    parts = [("--" if n["kind"] == "long" else "-") + n["name"] for n in names if n["kind"] in ("long", "short")]
    label = ", ".join(sorted(parts, key=len))
    if argument["kind"] == "option":
        label += " " + argument.get("valueName", "VALUE")
    if argument["kind"] == "positional":
        label = argument.get("valueName", "ARG").upper() + ("..." if argument.get("isRepeating") else "")
    return label


def discussion(text):
    """Prose as paragraphs; lines indented by two spaces (the examples) as a literal block."""
    out, example = [], False
    for line in text.split("\n"):
        if line.startswith("  "):
            if not example:
                out.append(".PP\n.RS 4\n.nf")
                example = True
            out.append(roff(line.strip()))
        else:
            if example:
                out.append(".fi\n.RE")
                example = False
            out.append(roff(line))
    if example:
        out.append(".fi\n.RE")
    return "\n".join(out)


def table_rows(markdown, heading):
    """The rows of the first table under `## heading` as lists of cells, markdown removed."""
    section = markdown.split("## " + heading + "\n", 1)
    if len(section) < 2:
        sys.exit(f"manpage.py: docs/cli.md has no section '{heading}'")
    rows = []
    for line in section[1].split("\n## ", 1)[0].split("\n"):
        if not line.startswith("|") or set(line) <= set("|-"):
            continue
        cells = [re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", c.strip()).replace("`", "") for c in line.strip("|").split(" | ")]
        rows.append(cells)
    return rows[1:]  # without the header


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: scripts/manpage.py PATH/TO/secret-agent > secret-agent.1")
    dump = subprocess.run([sys.argv[1], "--experimental-dump-help"], check=True, capture_output=True, text=True).stdout
    root = json.loads(dump)["command"]
    docs = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "cli.md"), encoding="utf-8").read()
    version = subprocess.run([sys.argv[1], "--version"], check=True, capture_output=True, text=True).stdout.strip()

    out = [f'.TH SECRET-AGENT 1 "" "secret-agent {roff(version)}" "User Commands"',
           ".SH NAME", "secret-agent \\- " + roff(root.get("abstract", "")),
           ".SH SYNOPSIS"]
    commands = [c for c in root.get("subcommands", []) if c.get("shouldDisplay", True) and c["commandName"] != "help"]
    for c in commands:
        out.append(f".B secret-agent {c['commandName']}\n.RI [ options ]\n.br")
    out.append(".SH DESCRIPTION")
    out.append(roff(root.get("abstract", "")))
    out.append("The full reference is in the docs/ directory of the source and, installed, in share/doc/secret-agent.")
    out.append(".SH COMMANDS")
    for c in commands:
        out.append(f".SS \"secret-agent {c['commandName']}\"")
        out.append(roff(c.get("abstract", "")))
        if c.get("discussion"):
            out.append(".PP\n" + discussion(c["discussion"]))
        for a in c.get("arguments", []):
            if not a.get("shouldDisplay", True):
                continue
            out.append(".TP\n.B " + roff(flag_label(a)))
            text = a.get("abstract", "")
            if a.get("defaultValue") and "default" not in text:
                text += f" (default: {a['defaultValue']})"
            out.append(roff(text))
    out.append(".SH ENVIRONMENT")
    for cells in table_rows(docs, "Environment variables"):
        out.append(".TP\n.B " + roff(cells[0]) + "\n" + roff(cells[1]))
    out.append(".SH EXIT STATUS")
    for cells in table_rows(docs, "Exit codes"):
        out.append(".TP\n.B " + roff(cells[0]) + "\n" + roff(cells[1]))
    out.append(".SH FILES\n.TP\n.B /etc/secret-agent/agent.yaml\nthe configuration the systemd unit reads")
    out.append(".SH SEE ALSO\n.BR systemd.service (5)")
    print("\n".join(out))


if __name__ == "__main__":
    main()
