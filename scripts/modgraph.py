#!/usr/bin/env python3
"""The simulator's module graph: which top-level modules each one imports (`crate::X`, also in
grouped `use crate::{a, b}`), and the import cycles among them (strongly connected components of
more than one module). Comments are skipped; `#[cfg(test)] mod tests` blocks are skipped unless
--tests is given.

    scripts/modgraph.py [--tests] [--root NAME] [SRC_DIR]   (default simulator/src)

Prints one line per module (its files and lines, and what it imports), then every cycle found,
then, with --root, the top-level modules that import NAME. Exit status 0 either way: it measures.
"""
import os
import re
import sys

args = sys.argv[1:]
tests = "--tests" in args
root = None
if "--root" in args:
    root = args[args.index("--root") + 1]
    del args[args.index("--root") : args.index("--root") + 2]
args = [a for a in args if a != "--tests"]
src = args[0] if args else "simulator/src"

CRATE = re.compile(r"\bcrate::(\{[^}]*\}|[a-z_][a-z0-9_]*)")


def module_of(rel):
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def code_lines(text):
    out, skip_depth = [], None
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not tests and skip_depth is None and stripped == "#[cfg(test)]" and i + 1 < len(lines) and re.match(r"\s*(pub\S* )?mod \w+\s*\{", lines[i + 1]):
            skip_depth = 0
            i += 1
            depth = 0
            while i < len(lines):
                depth += lines[i].count("{") - lines[i].count("}")
                i += 1
                if depth <= 0 and "{" in "".join(lines[i - 1 : i]) or (depth <= 0 and i > 0 and lines[i - 1].strip() == "}"):
                    break
            skip_depth = None
            continue
        if not stripped.startswith("//"):
            out.append(line.split("//")[0] if "//" in line and '"' not in line else line)
        i += 1
    return out


graph, files, lines = {}, {}, {}
for dirpath, _, names in os.walk(src):
    for name in names:
        if not name.endswith(".rs"):
            continue
        path = os.path.join(dirpath, name)
        rel = os.path.relpath(path, src)
        mod = module_of(rel)
        text = open(path, encoding="utf-8").read()
        files[mod] = files.get(mod, 0) + 1
        lines[mod] = lines.get(mod, 0) + text.count("\n")
        deps = graph.setdefault(mod, set())
        for line in code_lines(text):
            for m in CRATE.finditer(line):
                target = m.group(1)
                names_ = [t.strip().split("::")[0] for t in target.strip("{}").split(",")] if target.startswith("{") else [target]
                for t in names_:
                    if t and t != mod and t != "self":
                        deps.add(t)

mods = sorted(graph)
for m in mods:
    graph[m] &= set(mods)

# Tarjan's strongly connected components.
index, low, on, stack, sccs, counter = {}, {}, set(), [], [], [0]


def strong(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(graph[v]):
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
        sccs.append(sorted(comp))


sys.setrecursionlimit(10000)
for v in mods:
    if v not in index:
        strong(v)

print(f"# {src}: {len(mods)} top-level modules, {sum(files.values())} files, {sum(lines.values())} lines ({'with' if tests else 'without'} test modules)")
for m in mods:
    print(f"{m:12} {files[m]:3} files {lines[m]:6} lines  -> {', '.join(sorted(graph[m])) or '-'}")
cycles = [c for c in sccs if len(c) > 1]
print(f"cycles: {len(cycles)}")
for c in cycles:
    print(f"  {len(c)} modules, {sum(files[m] for m in c)} files: {' '.join(c)}")
if root:
    importers = sorted(m for m in mods if root in graph[m])
    print(f"modules importing {root}: {len(importers)}: {' '.join(importers)}")
