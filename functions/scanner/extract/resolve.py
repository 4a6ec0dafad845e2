"""Following names across the pack's modules: imports, star imports, mappings merged from submodules."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Literal

from functions.scanner.extract.summary import ClassInfo, ImportRef, Item, MapOp, ModuleSummary, Ref, Spread

# Top-level modules of ComfyUI itself: `from nodes import MAX_RESOLUTION` is never the pack's own nodes.py.
COMFY_MODULES = frozenset(
    {"nodes", "comfy", "folder_paths", "server", "execution", "comfy_extras", "node_helpers", "latent_preview",
     "comfy_execution", "comfy_api", "comfy_api_nodes", "comfy_config", "app", "cuda_malloc", "main"}
)  # fmt: skip
_MAX_DEPTH = 24

Kind = Literal["class", "var", "module"]
Target = tuple[Kind, str, str]  # (kind, module, name); for a module, name is ""
Mapping = dict[str, tuple[str, Item]]  # key -> (module the entry is written in, the entry)


def root_prefix(paths: list[str]) -> str | None:
    """Where the pack's `__init__.py` is: the archive root, or a single folder wrapping everything."""
    if "__init__.py" in paths:
        return ""
    tops = {p.split("/", 1)[0] for p in paths}
    if len(tops) == 1 and all("/" in p for p in paths):
        top = tops.pop()
        if f"{top}/__init__.py" in paths:
            return top + "/"
    return None


def module_name(path: str, prefix: str) -> str | None:
    if not path.startswith(prefix) or not path.endswith(".py"):
        return None
    parts = path[len(prefix) : -3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@dataclass
class Pack:
    modules: dict[str, ModuleSummary]
    packages: set[str]

    @classmethod
    def build(cls, summaries: list[ModuleSummary], prefix: str) -> Pack:
        modules: dict[str, ModuleSummary] = {}
        packages: set[str] = set()
        for summary in summaries:
            name = module_name(summary.path, prefix)
            if name is None:
                continue
            modules[name] = summary
            if posixpath.basename(summary.path) == "__init__.py":
                packages.add(name)
        return cls(modules, packages)


@dataclass
class Resolver:
    pack: Pack
    notes: list[str] = field(default_factory=list)
    dynamic: bool = False
    _active: set[tuple[str, str]] = field(default_factory=set)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # Names -------------------------------------------------------------------------------------------------

    def absolute(self, module: str, ref: ImportRef) -> str | None:
        """The pack module an import statement in `module` names, or None when it is outside the pack."""
        if ref.level == 0:
            return self._absolute_module(ref.module)
        base = module if module in self.pack.packages else module.rpartition(".")[0]
        for _ in range(ref.level - 1):
            if not base:
                return None
            base = base.rpartition(".")[0]
        return ".".join(p for p in (base, ref.module) if p)

    def _absolute_module(self, dotted: str) -> str | None:
        if dotted.split(".")[0] in COMFY_MODULES:
            return None
        parts = dotted.split(".")
        # `custom_nodes.my_pack.nodes` or `my_pack.nodes`: the pack's own name is not known, try suffixes.
        for start in range(len(parts)):
            candidate = ".".join(parts[start:])
            if candidate in self.pack.modules:
                return candidate
        return None

    def local(self, module: str, name: str, depth: int = 0) -> Target | None:
        summary = self.pack.modules.get(module)
        if summary is None or depth > _MAX_DEPTH:
            return None
        if name in summary.classes:
            return ("class", module, name)
        if name in summary.ops:
            return ("var", module, name)
        return self.imported(module, name, depth)

    def imported(self, module: str, name: str, depth: int = 0) -> Target | None:
        summary = self.pack.modules.get(module)
        if summary is None or depth > _MAX_DEPTH:
            return None
        ref = summary.imports.get(name)
        if ref is not None:
            return self._follow(module, ref, depth)
        for star in summary.star_imports:
            base = self.absolute(module, star)
            if base is not None and base != module and (found := self.local(base, name, depth + 1)) is not None:
                return found
        return None

    def _follow(self, module: str, ref: ImportRef, depth: int) -> Target | None:
        base = self.absolute(module, ref)
        if base is None:
            return None
        if ref.name is None:
            return ("module", base, "")
        submodule = f"{base}.{ref.name}" if base else ref.name
        if submodule in self.pack.modules:
            return ("module", submodule, "")
        return self.local(base, ref.name, depth + 1)

    def resolve(self, module: str, ref: Ref) -> Target | None:
        target = self.local(module, ref[0])
        for part in ref[1:]:
            if target is None or target[0] != "module":
                return None
            sub = f"{target[1]}.{part}" if target[1] else part
            target = ("module", sub, "") if sub in self.pack.modules else self.local(target[1], part)
        return target

    # Mappings ----------------------------------------------------------------------------------------------

    def mapping(self, module: str, var: str) -> Mapping:
        """Key -> (module, entry) for a module-level dict such as NODE_CLASS_MAPPINGS, as the module leaves it."""
        key = (module, var)
        summary = self.pack.modules.get(module)
        if summary is None or key in self._active or len(self._active) > _MAX_DEPTH:
            return {}
        self._active.add(key)
        try:
            start = self.imported(module, var)
            out = self._target_mapping(start) if start is not None else {}
            for op in summary.ops.get(var, []):
                out = self._apply(module, var, op, out)
            return out
        finally:
            self._active.discard(key)

    def _apply(self, module: str, var: str, op: MapOp, out: Mapping) -> Mapping:
        kind = op.kind
        where = f"{self._file(module)}:{op.line}"
        if kind == "dynamic":
            self.dynamic = True
            self.note(f"{var} is built by code at {where}")
            return out
        if kind == "alias":
            return self._ref_mapping(module, op.ref) if op.ref is not None else out
        if kind == "assign":
            out = {}
        for entry in op.entries:
            if isinstance(entry, Spread):
                out.update(self._ref_mapping(module, entry.ref))
            elif entry.key is None:
                self.note(f"a computed key in {var} at {where}")
            else:
                out[entry.key] = (module, entry)
        return out

    def _ref_mapping(self, module: str, ref: Ref) -> Mapping:
        target = self.resolve(module, ref)
        if target is None:
            self.note(f"{'.'.join(ref)} in {self._file(module)} is not resolvable inside the pack")
            return {}
        return self._target_mapping(target)

    def _target_mapping(self, target: Target) -> Mapping:
        return self.mapping(target[1], target[2]) if target[0] == "var" else {}

    def _file(self, module: str) -> str:
        summary = self.pack.modules.get(module)
        return summary.path if summary is not None else module or "__init__.py"

    # Classes -----------------------------------------------------------------------------------------------

    def class_of(self, module: str, item: Item) -> tuple[str, ClassInfo] | None:
        if item.ref is None:
            return None
        target = self.resolve(module, item.ref)
        if target is None or target[0] != "class":
            return None
        return target[1], self.pack.modules[target[1]].classes[target[2]]
