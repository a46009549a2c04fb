#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What the GitHub Actions runner makes of a $GITHUB_ENV file, for the
format tests: a transcription of SetEnvFileCommand in the runner's
FileCommandManager.cs (Linux: lines end at LF only).

  gh_env.py FILE KEY...          "KEY HEX" per key ("KEY UNSET" if absent)
  gh_env.py --masks DIR KEY...   the ::add-mask:: lines envinject owes for
                                 the values in DIR/KEY, in key order
"""
import sys


def read_line(text, index):
    """The line at index and the index after it; (None, index) at the end."""
    if index >= len(text):
        return None, index
    lf = text.find(b"\n", index)
    if lf < 0:
        return text[index:], len(text)
    return text[index:lf], lf + 1


def parse(text):
    env = {}
    index = 0
    line, index = read_line(text, index)
    while line is not None:
        if line:
            eq = line.find(b"=")
            hd = line.find(b"<<")
            if eq >= 0 and (hd < 0 or eq < hd):
                name, value = line.split(b"=", 1)
                env[name] = value
            elif hd >= 0 and (eq < 0 or hd < eq):
                name, delim = line.split(b"<<", 1)
                if not name or not delim:
                    raise ValueError("empty name or delimiter: %r" % line)
                start = end = index
                temp, index = read_line(text, index)
                while temp != delim:
                    if temp is None:
                        raise ValueError("no closing delimiter %r" % delim)
                    end = index - 1
                    temp, index = read_line(text, index)
                env[name] = text[start:end] if end > start else b""
            else:
                raise ValueError("invalid line %r" % line)
        line, index = read_line(text, index)
    return env


def masks(folder, keys):
    out = []
    for k in keys:
        with open(folder + "/" + k, "rb") as f:
            value = f.read()
        for part in value.replace(b"\r", b"\n").split(b"\n"):
            if part:
                data = part.replace(b"%", b"%25")
                out.append(b"::add-mask::" + data + b"\n")
    return b"".join(out)


def main():
    if sys.argv[1] == "--masks":
        sys.stdout.buffer.write(masks(sys.argv[2], sys.argv[3:]))
        return
    with open(sys.argv[1], "rb") as f:
        env = parse(f.read())
    for k in sys.argv[2:]:
        v = env.get(k.encode())
        print(k, "UNSET" if v is None else v.hex())


main()
