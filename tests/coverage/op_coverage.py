#!/usr/bin/python3
"""Op coverage: the torch ops coremltools converts, against torch 1.13 and ts2coreml.

Usage (Debian's python, which has torch 1.13):

    /usr/bin/python3 tests/coverage/op_coverage.py build/ts2coreml            # writes op-coverage.md
    /usr/bin/python3 tests/coverage/op_coverage.py build/ts2coreml --check    # exit 1 if an op is missing
    /usr/bin/python3 tests/coverage/op_coverage.py build/ts2coreml --missing  # the missing ops, one a line

For every name in coremltools_ops.txt (written by extract_coremltools_ops.py) it finds
  * the torch op it stands for, in torch 1.13's operator registry (`torch._C._jit_get_all_schemas()`,
    with torchvision's ops when torchvision imports, plus the prim:: node kinds TorchScript emits
    without a schema such as prim::If): a name without a namespace is looked up as aten::, prim::,
    quantized::, torchvision:: in that order, as given, as a dunder (`and` -> `__and__`) and as an
    in-place op (`NAME_`), ignoring case (coremltools lower-cases names: `listunpack`); `a.b` is op `a`
    overload `b` when `a` is an op, else namespace `a` op `b` (a torch.ops path);
  * the ts2coreml lowering that covers it, from `ts2coreml ops --json` (with the shipped plugins):
    the key `op.overload`, else `op`; for a name without an overload, keys of some overloads
    only count as a partial cover; an in-place op falls back to its functional key, as in
    LoweringRegistry::find. The prim:: kinds the frontend lowers itself (isStructuralOp in
    core/frontend/TorchGraph.cpp) count as provided by "frontend".
An op "is missing" when it exists in torch 1.13 and nothing in ts2coreml covers it.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_NAMESPACES = ("aten", "prim", "quantized", "torchvision")


# --- torch 1.13 -----------------------------------------------------------------------------------


def emitted_node_kinds(torch):
    """Node kinds TorchScript itself emits (scripting and tracing small programs), schema or not."""
    from typing import Dict, List

    class Inner(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Linear(2, 2)

        def forward(self, x):
            return self.scale(x)

    class Probe(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Inner()

        def forward(self, x, n: int, t: torch.Tensor):
            pair = [x, x]
            first, second = pair
            both = (x, n)
            left, right = both
            if n > 0:
                y = first + second
            else:
                y = left * right
            for i in range(n):
                y = y + i
            while n > 3:
                n -= 1
            named: Dict[str, torch.Tensor] = {"y": y}
            dims: List[int] = x.size()
            y = y.view(dims[0], dims[1])
            return self.inner(y), both[0], named["y"], pair[t]

    def walk(block, out):
        for node in block.nodes():
            out.add(node.kind())
            for sub in node.blocks():
                walk(sub, out)

    kinds = set()
    scripted = torch.jit.script(Probe())
    walk(scripted.graph, kinds)
    walk(scripted.inner.graph, kinds)
    traced = torch.jit.trace(lambda x: torch.split(x, 1)[0] * x.size(0), torch.ones(2, 2))
    walk(traced.graph, kinds)
    return kinds


class TorchOps:
    def __init__(self):
        import torch

        self.version = torch.__version__
        self.notes = []
        try:
            import torchvision  # noqa: F401  (registers torchvision:: ops)

            self.notes.append(f"torchvision {torchvision.__version__} imported")
        except Exception as e:  # noqa: BLE001
            self.notes.append(f"torchvision not imported ({e.__class__.__name__}): torchvision:: ops unknown")
        self.overloads = {}  # qualified name as torch spells it -> {lower-case overload: torch spelling}
        self.spellings = {}  # lower-case qualified name -> torch spellings (aten::size and aten::Size both exist)
        self.listed_namespaces = set()
        for schema in torch._C._jit_get_all_schemas():
            self._add(schema.name, schema.overload_name)
        for kind in emitted_node_kinds(torch):
            self._add(kind, "")

    def _add(self, name, overload):
        if name not in self.overloads:
            self.overloads[name] = {}
            self.spellings.setdefault(name.lower(), []).append(name)
        self.overloads[name][overload.lower()] = overload

    @property
    def namespaces(self):
        """Torch's namespaces, and those the names of the list use with '::'."""
        return {name.split("::")[0] for name in self.overloads} | self.listed_namespaces

    def op(self, qualified):
        """Torch's spelling of an op name: the name as given, else the one that differs only in case."""
        if qualified in self.overloads:
            return qualified
        found = self.spellings.get(qualified.lower(), [])
        return found[0] if len(found) == 1 else None

    def overload(self, qualified, overload):
        return self.overloads.get(qualified, {}).get(overload.lower())

    def unqualified(self, name):
        """The torch ops an unqualified name may stand for, the likeliest first: in each namespace the
        name, else its dunder, else its in-place form; both aten:: and prim:: (coremltools strips
        either: `device` is aten::device and prim::device), else quantized::, else torchvision::."""
        found = []
        for ns in DEFAULT_NAMESPACES:
            if found and ns not in ("aten", "prim"):
                break
            for candidate in (name, f"__{name}__", f"{name}_"):
                spelling = self.op(f"{ns}::{candidate}")
                if spelling:
                    found.append(spelling)
                    break
        return found

    def resolve(self, name):
        """(candidate torch ops, the first shown; overload or ''; exists in torch; reason when not).

        With several candidates (`device`: aten::device and prim::device) the op exists when one of
        them has the overload, and a lowering of any of them covers it."""
        if "::" in name:
            ns, rest = name.split("::", 1)
            op, _, overload = rest.partition(".")
            spelling = self.op(f"{ns}::{op}")
            candidates = [spelling] if spelling else []
            guess = f"{ns}::{op}"
        else:
            op, _, overload = name.partition(".")
            candidates = self.unqualified(op)
            guess = f"aten::{op}"
            if not candidates and overload and op in self.namespaces:
                # a torch.ops path: namespace.op[.overload]
                ns = op
                op, _, overload = overload.partition(".")
                spelling = self.op(f"{ns}::{op}")
                candidates = [spelling] if spelling else []
                guess = f"{ns}::{op}"
        if not candidates:
            return [guess], overload, False, "not in torch 1.13"
        if overload:
            with_overload = [(c, self.overload(c, overload)) for c in candidates]
            with_overload = [(c, o) for c, o in with_overload if o is not None]
            if not with_overload:
                return candidates, overload, False, f"not in torch 1.13 (overload .{overload} of {candidates[0]} is not)"
            overload = with_overload[0][1]
            candidates = [c for c, _ in with_overload]
        return candidates, overload, True, ""


# --- ts2coreml ------------------------------------------------------------------------------------


def default_plugin_dirs(binary):
    build = os.path.dirname(os.path.abspath(binary))
    dirs = []
    for name in ("torchvision", "sorting"):
        d = os.path.join(build, "plugins", name)
        if glob.glob(os.path.join(d, "*.so")):
            dirs.append(d)
        else:
            print(f"op_coverage: warning: no plugin in {d}", file=sys.stderr)
    return dirs


def run_ops_json(binary, plugin_dirs, wait_minutes):
    deadline = time.time() + wait_minutes * 60
    while not os.access(binary, os.X_OK):
        if time.time() >= deadline:
            sys.exit(f"op_coverage: {binary}: no such executable")
        print(f"op_coverage: waiting for {binary} ...", file=sys.stderr)
        time.sleep(60)
    cmd = [binary, "ops", "--json"]
    for d in plugin_dirs:
        cmd += ["--plugin-path", d]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.stderr:
        sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        sys.exit(f"op_coverage: {' '.join(cmd)} exited {proc.returncode}")
    return json.loads(proc.stdout), cmd


def structural_kinds():
    """The prim:: kinds ts2coreml's frontend lowers itself (isStructuralOp), read from its source."""
    path = os.path.join(REPO, "core", "frontend", "TorchGraph.cpp")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return set()
    body = re.search(r"bool isStructuralOp\([^)]*\)\s*\{(.*?)\};", text, re.S)
    if not body:
        print(f"op_coverage: warning: isStructuralOp not found in {path}", file=sys.stderr)
        return set()
    return set(re.findall(r'"([A-Za-z_]+::[A-Za-z_0-9]+)"', body.group(1)))


class Lowerings:
    def __init__(self, ops_json, structural):
        self.by_key = {}  # lower-case key -> list of entries
        for e in ops_json["lowerings"]:
            self.by_key.setdefault(e["key"].lower(), []).append(e)
        self.entry_count = len(ops_json["lowerings"])
        self.key_count = len(self.by_key)
        self.structural = {k.lower(): k for k in structural}

    def _pick(self, qualified, overload):
        if overload:
            hit = self.by_key.get(f"{qualified}.{overload}".lower())
            if hit:
                return hit, ""
        hit = self.by_key.get(qualified.lower())
        if hit:
            return hit, ""
        if qualified.lower() in self.structural:
            return [{"key": self.structural[qualified.lower()], "provider": "frontend", "min_target": ""}], ""
        if not overload:
            prefix = qualified.lower() + "."
            some = [e for k, lst in sorted(self.by_key.items()) if k.startswith(prefix) for e in lst]
            if some:
                return some, "some overloads only"
        return None, ""

    def cover(self, qualified, overload):
        """(entries, note) of the lowerings covering an op, or (None, '')."""
        hit, note = self._pick(qualified, overload)
        if hit:
            return hit, note
        if qualified in FRONTEND_RENAMES:
            target = FRONTEND_RENAMES[qualified]
            hit, _ = self.cover(target, overload)
            if hit:
                return [{"key": qualified, "provider": "frontend", "min_target": ""}], f"lowered as {target}"
        ns, _, name = qualified.partition("::")
        if name.endswith("_") and not name.endswith("__"):
            return self._pick(f"{ns}::{name[:-1]}", overload)
        return None, ""


# The in-place operators the frontend renames before lookup (core/frontend/Frontend.cpp).
FRONTEND_RENAMES = {
    "aten::__iand__": "aten::bitwise_and_",
    "aten::__ior__": "aten::bitwise_or_",
    "aten::__ixor__": "aten::bitwise_xor_",
}

# Ops of torch 1.13 that ts2coreml does not lower on purpose, and why. A row is still "missing".
NOT_LOWERED = {
    "aten::_unique2": "output size depends on the values; Core ML has no unique op",
    "aten::_pack_padded_sequence": "variable-length batches: data-dependent shapes (use equal lengths or batch 1)",
    "aten::_pad_packed_sequence": "variable-length batches: data-dependent shapes (use equal lengths or batch 1)",
    "prim::ConstantChunk": "made only by torch's fusion passes, which ts2coreml does not run (aten::chunk is lowered)",
}
QUANTIZED = "torch-quantized models (packed int8 params) are not converted: convert the float model"


def not_lowered_reason(qualified):
    if qualified in NOT_LOWERED:
        return NOT_LOWERED[qualified]
    if qualified.startswith("quantized::") or qualified in (
        "aten::quantize_per_tensor",
        "aten::quantize_per_channel",
        "aten::dequantize",
    ):
        return QUANTIZED
    return ""


# --- the table ------------------------------------------------------------------------------------


def read_names(path):
    with open(path) as f:
        header = [line.rstrip("\n") for line in f if line.startswith("#")]
    with open(path) as f:
        names = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    return header, names


def provider_text(entries):
    out = []
    for e in entries:
        provider = e["provider"]
        if provider.startswith(REPO + os.sep):
            provider = os.path.relpath(provider, REPO)
        elif os.path.isabs(provider) and "/plugins/" in provider:
            provider = "…/plugins/" + provider.split("/plugins/", 1)[1]
        key = e["key"]
        out.append((key, provider, e.get("min_target") or ""))
    return out


def build_rows(names, torch_ops, lowerings):
    rows = []
    for name in names:
        candidates, overload, exists, reason = torch_ops.resolve(name)
        shown = " / ".join(f"{c}.{overload}" if overload else c for c in candidates)
        entries, note = None, ""
        for qualified in candidates:
            entries, note = lowerings.cover(qualified, overload)
            if entries:
                break
        if not entries and exists:
            note = "; ".join(filter(None, (not_lowered_reason(c) for c in candidates[:1])))
        rows.append(
            {
                "name": name,
                "torch": shown,
                "exists": exists,
                "reason": reason,
                "entries": provider_text(entries) if entries else None,
                "note": note,
            }
        )
    return rows


def code(text):
    return f"`{text}`" if text else ""


def write_markdown(path, rows, header, torch_ops, lowerings, cmd):
    in_torch = [r for r in rows if r["exists"]]
    provided = [r for r in rows if r["entries"]]
    missing = [r for r in in_torch if not r["entries"]]
    lines = [
        "# Op coverage: coremltools' torch ops in ts2coreml",
        "",
        f"**{len(rows)} coremltools ops; {len(in_torch)} in torch {torch_ops.version}; "
        f"{len(provided)} provided by ts2coreml ({len([r for r in in_torch if r['entries']])} of those in torch); "
        f"{len(missing)} missing.**",
        "",
        "Generated by `tests/coverage/op_coverage.py` — do not edit. Sources:",
        "",
    ]
    lines += [f"- `coremltools_ops.txt`: {h.lstrip('# ').strip()}" for h in header]
    lines += [
        f"- torch {torch_ops.version} operator registry (`torch._C._jit_get_all_schemas()` and the prim:: node "
        f"kinds TorchScript emits); {'; '.join(torch_ops.notes)}",
        f"- `{' '.join(os.path.relpath(c, REPO) if os.path.isabs(c) else c for c in cmd)}`: "
        f"{lowerings.key_count} keys ({lowerings.entry_count} entries); prim:: kinds lowered by the frontend "
        f"itself are shown as `frontend`",
        "",
        "A provider is `built-in`, `ops.yaml:LINE` (a shipped composite), a plugin library, or `frontend`; "
        "*missing* means the op exists in torch 1.13 and nothing in ts2coreml lowers it.",
        "",
        "| coremltools op | torch op | in torch 1.13 | ts2coreml provider | min target | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["entries"]:
            if len(r["entries"]) == 1 and not r["note"]:
                _, provider, target = r["entries"][0]
                providers, targets = code(provider), target
            else:
                providers = "<br>".join(f"{code(k)}: {code(p)}" for k, p, _ in r["entries"])
                targets = "<br>".join(t for _, _, t in r["entries"])
        else:
            providers = "**missing**" if r["exists"] else "missing"
            targets = ""
        note = "; ".join(x for x in (r["reason"], r["note"]) if x)
        lines.append(
            f"| {code(r['name'])} | {code(r['torch'])} | {'yes' if r['exists'] else 'no'} | {providers} | "
            f"{targets} | {note} |"
        )
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(rows), len(in_torch), len(provided), len(missing)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ts2coreml", help="the ts2coreml binary, e.g. build/ts2coreml")
    ap.add_argument("--ops-list", default=os.path.join(HERE, "coremltools_ops.txt"))
    ap.add_argument(
        "--plugin-path",
        action="append",
        help="plugin directory for `ts2coreml ops` (repeatable; default: BUILD/plugins/torchvision and "
        "BUILD/plugins/sorting next to the binary)",
    )
    ap.add_argument("--ops-json", help="read this saved `ts2coreml ops --json` output instead of running the binary")
    ap.add_argument("-o", "--output", help="the Markdown table (default: op-coverage.md here, when neither "
                    "--check nor --missing is given)")
    ap.add_argument("--check", action="store_true", help="exit 1 if an op in torch 1.13 is missing")
    ap.add_argument("--missing", action="store_true", help="print the missing ops, one a line")
    ap.add_argument("--wait", type=float, default=0, metavar="MINUTES",
                    help="wait up to this long for the binary to appear")
    args = ap.parse_args()

    header, names = read_names(args.ops_list)
    torch_ops = TorchOps()
    torch_ops.listed_namespaces = {n.split("::")[0] for n in names if "::" in n}
    if args.ops_json:
        with open(args.ops_json) as f:
            ops_json = json.load(f)
        cmd = [args.ts2coreml, "ops", "--json", f"(saved in {args.ops_json})"]
    else:
        plugin_dirs = args.plugin_path if args.plugin_path is not None else default_plugin_dirs(args.ts2coreml)
        ops_json, cmd = run_ops_json(args.ts2coreml, plugin_dirs, args.wait)
    lowerings = Lowerings(ops_json, structural_kinds())
    rows = build_rows(names, torch_ops, lowerings)
    missing = [r for r in rows if r["exists"] and not r["entries"]]

    output = args.output or (None if (args.check or args.missing) else os.path.join(HERE, "op-coverage.md"))
    if output:
        total, in_torch, provided, n_missing = write_markdown(output, rows, header, torch_ops, lowerings, cmd)
        print(
            f"{output}: {total} coremltools ops, {in_torch} in torch {torch_ops.version}, {provided} provided by "
            f"ts2coreml, {n_missing} missing; ts2coreml ops: {lowerings.key_count} keys, "
            f"{lowerings.entry_count} entries",
            file=sys.stderr,
        )
    if args.missing:
        for r in missing:
            print(r["name"])
    if args.check:
        if missing:
            print(
                f"op_coverage: {len(missing)} ops in torch 1.13 have no ts2coreml lowering: "
                + ", ".join(r["torch"] for r in missing),
                file=sys.stderr,
            )
            return 1
        print("op_coverage: every coremltools op in torch 1.13 is covered", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
