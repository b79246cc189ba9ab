"""Reads cargo-modules' item graph (DOT, `cargo modules dependencies`) and writes the
graph of its modules: every "uses" edge between two items becomes an edge between the
modules that own them (an item's owner is the longest module path that prefixes it),
edges inside one module dropped. Types, functions and traits thus count, so a cycle
through `a::Foo` used by `b` and `b::bar` used by `a` is a cycle of `a` and `b`.
"""
import re
import sys

lines = sys.stdin.read().splitlines()
modules = set()
for line in lines:
    m = re.match(r'\s*"([^"]+)" \[.*// "mod" node', line)
    if m:
        modules.add(m.group(1))


def owner(item):
    while item not in modules and "::" in item:
        item = item.rsplit("::", 1)[0]
    return item


edges = set()
for line in lines:
    m = re.match(r'\s*"([^"]+)" -> "([^"]+)" \[label="uses"', line)
    if m:
        a, b = owner(m.group(1)), owner(m.group(2))
        if a != b:
            edges.add((a, b))
print("digraph modules {")
for a, b in sorted(edges):
    print(f'  "{a}" -> "{b}";')
print("}")
