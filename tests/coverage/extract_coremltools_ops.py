#!/usr/bin/env python3
"""List the torch op names that coremltools' torch frontend registers.

Usage: extract_coremltools_ops.py GIT_DIR [-o OUT]

GIT_DIR is a (bare) git directory of apple/coremltools. The script reads the
Python files of coremltools/converters/mil/frontend/torch/ at HEAD (test
directories excluded: their registrations exist only while a test runs), parses
them with the `ast` module and collects every name given to the registry:

  * `@register_torch_op` / `@register_torch_op(...)` on a function registers the
    function's name, plus every string of the `torch_alias=[...]` keyword;
  * a plain call `register_torch_op(func, torch_alias=[...])` registers the name
    of `func` plus the aliases.

`override=True` re-registers a name, so it does not add one. The names are
written as coremltools spells them (lower case, namespace and dunders stripped
for aten/prim ops, an overload suffix such as `.dim` kept when given), sorted,
one per line, after a two-line `#` header naming the commit.

Only the Python standard library is used.
"""

import argparse
import ast
import subprocess
import sys

FRONTEND_DIR = "coremltools/converters/mil/frontend/torch/"
REGISTER = "register_torch_op"


def git(git_dir, *args):
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True
    ).stdout


def frontend_sources(git_dir):
    """Paths of the frontend's .py files at HEAD, tests excluded."""
    paths = git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", FRONTEND_DIR).splitlines()
    for path in paths:
        parts = path[len(FRONTEND_DIR):].split("/")
        if not path.endswith(".py"):
            continue
        if any(p in ("test", "tests") for p in parts[:-1]) or parts[-1].startswith("test_"):
            continue
        yield path


def is_register(node):
    """True if `node` (a decorator's callee or a call's func) names register_torch_op."""
    if isinstance(node, ast.Name):
        return node.id == REGISTER
    if isinstance(node, ast.Attribute):
        return node.attr == REGISTER
    return False


def alias_strings(call, where):
    """The strings of a call's `torch_alias=` keyword (a list or tuple literal)."""
    names = []
    for kw in call.keywords:
        if kw.arg != "torch_alias":
            continue
        value = kw.value
        if isinstance(value, ast.Constant) and value.value is None:
            continue
        if not isinstance(value, (ast.List, ast.Tuple)):
            raise SystemExit(f"{where}: torch_alias is not a literal list: {ast.dump(value)}")
        for elt in value.elts:
            if not (isinstance(elt, ast.Constant) and isinstance(elt.value, str)):
                raise SystemExit(f"{where}: non-string alias: {ast.dump(elt)}")
            names.append(elt.value)
    return names


def registered_names(source, path):
    tree = ast.parse(source, filename=path)
    names = []
    decorator_calls = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                where = f"{path}:{dec.lineno}"
                if is_register(dec):
                    names.append(node.name)
                elif isinstance(dec, ast.Call) and is_register(dec.func):
                    decorator_calls.add(id(dec))
                    if dec.args:
                        raise SystemExit(f"{where}: positional argument in a decorator call")
                    names.append(node.name)
                    names.extend(alias_strings(dec, where))
    for node in ast.walk(tree):
        # register_torch_op(func, ...) called directly, not as a decorator
        if isinstance(node, ast.Call) and is_register(node.func) and id(node) not in decorator_calls:
            where = f"{path}:{node.lineno}"
            if not node.args:
                continue
            func = node.args[0]
            if isinstance(func, ast.Name):
                names.append(func.id)
            elif isinstance(func, ast.Attribute):
                names.append(func.attr)
            else:
                raise SystemExit(f"{where}: cannot tell the registered function: {ast.dump(func)}")
            names.extend(alias_strings(node, where))
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("git_dir", help="git directory of apple/coremltools")
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    args = ap.parse_args()

    commit = git(args.git_dir, "rev-parse", "HEAD").strip()
    names = set()
    per_file = {}
    for path in frontend_sources(args.git_dir):
        source = git(args.git_dir, "show", f"HEAD:{path}")
        if REGISTER not in source:
            continue
        found = registered_names(source, path)
        per_file[path] = len(found)
        names.update(found)

    lines = [
        "# Torch op names registered by coremltools' torch frontend (register_torch_op: function names and torch_alias)",
        f"# read from apple/coremltools commit {commit} by tests/coverage/extract_coremltools_ops.py",
    ]
    lines += sorted(names)
    text = "\n".join(lines) + "\n"
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    for path, count in sorted(per_file.items()):
        print(f"{path}: {count} registrations", file=sys.stderr)
    print(f"{len(names)} distinct names", file=sys.stderr)


if __name__ == "__main__":
    main()
