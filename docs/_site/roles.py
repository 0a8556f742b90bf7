"""A griffe extension for the API reference (mkdocs.yml loads it): the docstrings' Sphinx roles
(``:class:`~.coordinator.Coordinator```, ``:func:`fit```, ...) become cross-references, and
``mutualgnn``'s lazily handed-on public names become members of the package.

* A role's target is looked up as Sphinx would: a leading ``~`` shows only the last name; a
  bare or ``.``-relative name is searched in the docstring's class, its module, the packages
  above it, then as a dotted suffix of any object of the package; a full ``mutualgnn.`` path
  directly. Found, it becomes an optional autoref to the object's canonical path: a link where
  the site renders the object, plain code otherwise.
* Names of other libraries (``torch.``, ``dgl.``, ...) stay plain code.
* Any other target is a broken reference: a warning, which ``mkdocs build --strict`` turns
  into a failed build. Every docstring of the package is checked, rendered or not.
* An attribute documented Sphinx's way, by a ``#:`` comment at the end of its line or on the
  lines just above it (the config dataclasses' fields), gets that comment as its docstring.
"""

from __future__ import annotations

import importlib
import logging
import re

import griffe

LOG = logging.getLogger("mkdocs.plugins.mutualgnn.roles")
ROLE = re.compile(r":(?:py:)?(class|func|meth|mod|data|attr|exc|obj):`(~?)([^`]+)`")
EXTERNAL = (
    "torch",
    "nn",
    "dgl",
    "numpy",
    "np",
    "pandas",
    "pd",
    "scipy",
    "click",
    "sklearn",
    "ogb",
    "matplotlib",
    "typing",
    "dataclasses",
    "pathlib",
    "collections",
)


class SphinxRoles(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        if pkg.name != "mutualgnn":
            return
        # the public API that mutualgnn/__init__.py hands on lazily (invisible to static analysis)
        for name, module in importlib.import_module("mutualgnn")._API.items():
            pkg.set_member(name, griffe.Alias(name, f"mutualgnn.{module}.{name}", parent=pkg))
        self.objects = {}
        self._collect(pkg)
        for obj in list(self.objects.values()):
            if obj.is_attribute and obj.docstring is None and (text := _comment(obj)):
                obj.docstring = griffe.Docstring(text, lineno=obj.lineno, parent=obj)
            if obj.docstring is not None:
                obj.docstring.value = ROLE.sub(lambda m: self._replace(m, obj), obj.docstring.value)

    def _collect(self, obj) -> None:
        self.objects[obj.path] = obj
        for member in obj.members.values():
            if not member.is_alias:
                self._collect(member)

    def _replace(self, match, obj) -> str:
        role, short, target = match.groups()
        shown = target.lstrip(".").rsplit(".", 1)[-1] if short else target.lstrip(".")
        code = f"<code>{shown}{'()' if role in ('func', 'meth') and not short else ''}</code>"
        found = self._find(target, obj)
        if found is not None:
            return f'<autoref identifier="{found}" optional>{code}</autoref>'
        if target.lstrip("~").split(".")[0] in EXTERNAL:
            return code
        LOG.warning(
            "broken reference :%s:`%s` in the docstring of %s (%s:%s)",
            role,
            target,
            obj.path,
            obj.relative_filepath,
            obj.docstring.lineno,
        )
        return code

    def _find(self, target: str, obj) -> str | None:
        """The canonical path of ``target`` as seen from ``obj``'s docstring, or None."""
        name = target.lstrip(".")
        scopes = []
        scope = obj
        while scope is not None:  # the object itself, its class, module, packages above
            scopes.append(scope.path)
            scope = scope.parent
        candidates = [f"{s}.{name}" for s in scopes] + [name]
        for path in candidates:
            found = self._resolve(path)
            if found:
                return found
        suffix = [p for p in self.objects if p.endswith("." + name)]
        return self._resolve(suffix[0]) if len(suffix) == 1 else None

    def _resolve(self, path: str) -> str | None:
        head, _, rest = path.partition(".")
        if head != "mutualgnn":
            return None
        try:
            obj = self.objects["mutualgnn"]
            for part in rest.split(".") if rest else []:
                obj = obj.members[part]
                if obj.is_alias:
                    obj = obj.final_target
        except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
        return obj.path


def _comment(attr) -> str:
    """The ``#:`` comment documenting ``attr``: at the end of its line, else the comment lines
    right above it."""
    try:
        lines = attr.lines_collection[attr.filepath]
    except (KeyError, AttributeError, TypeError):
        return ""
    line = lines[attr.lineno - 1]
    if "#:" in line:
        return line.split("#:", 1)[1].strip()
    above, i = [], attr.lineno - 2
    while i >= 0 and lines[i].strip().startswith("#:"):
        above.insert(0, lines[i].strip()[2:].strip())
        i -= 1
    return " ".join(above)
