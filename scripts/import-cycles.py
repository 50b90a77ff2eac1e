#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""import-cycles.py [--order=A,B,...] [--layers] [SRC]: prints the import cycles between the
Rust files of the crate in SRC (default src/) and exits 1 if there is one. --order names the
layer folders from the bottom up (files outside them are the top): an import from a lower
layer to a higher one is an error too. --layers prints every file's imports.

A module is a file (x.rs or x/mod.rs). Every path that starts with `crate::` or `super::`
counts, in `use` trees (`use super::{a::B, c}` is two imports) and in code alike; comments
do not. A path points at the deepest file it names."""
import os
import re
import sys

args = [a for a in sys.argv[1:] if not a.startswith("--")]
order = next((a.split("=", 1)[1].split(",") for a in sys.argv[1:] if a.startswith("--order=")), [])
root = args[0] if args else "src"
files = {}
for d, _, names in os.walk(root):
    for n in names:
        if n.endswith(".rs"):
            p = os.path.relpath(os.path.join(d, n), root)
            with open(os.path.join(d, n), encoding="utf-8", errors="replace") as fh:
                files[p] = re.sub(r"//[^\n]*", "", fh.read())


def module_path(f):
    """The module path of file f: torture/napi.rs -> [torture, napi], x/mod.rs -> [x]."""
    parts = f[:-3].split("/")
    if parts[-1] == "mod":
        parts = parts[:-1]
    return parts[1:] if parts and parts[0] == "bhlock_main" else parts


def module_file(parts):
    """The deepest file that `parts` names."""
    for k in range(len(parts), 0, -1):
        base = "/".join(parts[:k])
        for cand in (base + ".rs", base + "/mod.rs"):
            if cand in files:
                return cand
    return None


def leaves(tree):
    """The paths of a use tree such as `a, b::{c, d::E}`."""
    out, depth, cur, items = [], 0, "", []
    for ch in tree:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    for it in items:
        it = it.strip()
        if "{" not in it:
            it = it.split(" as ")[0].strip()
        if not it:
            continue
        if "{" in it:
            head, rest = it.split("{", 1)
            head = [p for p in head.split("::") if p]
            out += [head + sub for sub in leaves(rest[: rest.rindex("}")])]
        else:
            out.append([p for p in it.split("::") if p])
    return out


def absolute(f, path):
    """`path` (starting with crate or super) as a path from the crate root."""
    here = module_path(f)
    if path[0] == "crate":
        return path[1:]
    base = here[:-1]
    path = path[1:]
    while path and path[0] == "super":
        base, path = base[:-1], path[1:]
    return base + path


edges = {f: set() for f in files}
for f, text in files.items():
    paths = []
    for m in re.finditer(r"\buse\s+((?:crate|super)\b[^;]*);", text, re.S):
        paths += leaves(m.group(1))
    code = re.sub(r"\buse\s+[^;]*;", "", text, flags=re.S)
    for m in re.finditer(r"\b(?:crate|super)(?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+", code):
        paths.append(m.group(0).split("::"))
    for p in paths:
        t = module_file(absolute(f, p))
        if t and t != f:
            edges[f].add(t)

index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def strong(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            strong(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(sorted(comp))


sys.setrecursionlimit(10000)
for v in sorted(files):
    if v not in index:
        strong(v)
if "--layers" in sys.argv:
    for f in sorted(files):
        print(f"{f}: {' '.join(sorted(edges[f])) or '-'}")
for c in sccs:
    print("cycle:", " ".join(c))


def rank(f):
    top = f.split("/")[0]
    return order.index(top) if "/" in f and top in order else len(order)


upward = [(f, t) for f in sorted(files) for t in sorted(edges[f]) if rank(t) > rank(f)]
for f, t in upward:
    print(f"upward: {f} imports {t}")
print(f"{len(files)} Rust files, {sum(len(e) for e in edges.values())} imports, {len(sccs)} cycles, "
      f"{len(upward)} upward imports")
sys.exit(1 if sccs or upward else 0)
