"""Sphinx configuration of rntk's documentation site.

Build it from the repository root with ``python -m sphinx -W -n -b html docs
docs/_build/html`` (warnings are errors, and every cross-reference must
resolve). The build needs no network: cross-references to NumPy, SciPy and
Python are written as plain text rather than resolved against those projects'
sites.

Three pieces of machinery live here:

* the API reference (``api.rst``) documents every object once, at the path
  users import it from (``rntk.RNTK`` rather than ``rntk._kernel.RNTK``);
  :func:`resolve_reexports` lets a docstring refer to an object by any module
  that holds it (``rntk.activations.ReLU`` is ``rntk.ReLU``), so a module move
  touches neither docstrings nor this file;
* :func:`render_examples` turns every ``examples/*.py`` (percent-format cells)
  into a Markdown page under ``docs/examples/``, with the figures the scripts
  made, saved in ``docs/*.png``: the examples are not run by the build (the
  notebook tests run them);
* numpydoc links the types of parameters that name rntk's own classes, and
  leaves the rest (``ndarray``, ``array-like``, ``float``) as text.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))

import rntk  # noqa: E402

project = "rntk"
author = "the rntk developers"
copyright = "the rntk developers"
release = version = rntk.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
nitpicky = True

# --------------------------------------------------------------------------- Markdown

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
# GitHub's anchors for headings down to ####, so that ``math.md#the-recursion``
# works on the site as it does on GitHub.
myst_heading_anchors = 4

# --------------------------------------------------------------------------- API reference

autosummary_generate = True
autosummary_ignore_module_all = False
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": True, "special-members": "__call__"}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()


def _public_modules() -> list[str]:
    """Every module of the package that does not start with an underscore."""
    return sorted(
        f"rntk.{path.stem}"
        for path in (ROOT / "src" / "rntk").glob("*.py")
        if not path.stem.startswith("_")
    ) + sorted(
        f"rntk.{path.name}"
        for path in (ROOT / "src" / "rntk").iterdir()
        if path.is_dir() and (path / "__init__.py").is_file() and not path.name.startswith("_")
    )


def _reexported() -> set[str]:
    """``module.name`` for every object a module holds that ``rntk`` re-exports.

    Those objects are documented once, as ``rntk.name``; the module pages leave
    them out (the autosummary module template reads this set).
    """
    names = set()
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            if name in rntk.__all__ and getattr(rntk, name) is getattr(module, name):
                names.add(f"{module_name}.{name}")
    return names


autosummary_context = {"reexported": _reexported()}

# numpydoc links a parameter type that is in this table; other words (ndarray,
# array-like, float, "of shape") stay text. Its built-in table points at
# Python's and NumPy's sites, which the offline build cannot reach, so each of
# its words maps to itself, i.e. to text.
from numpydoc.xref import DEFAULT_LINKS  # noqa: E402

numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {word: word for word in DEFAULT_LINKS}
numpydoc_xref_aliases.update(
    {name: f"rntk.{name}" for name in rntk.__all__ if inspect.isclass(getattr(rntk, name))}
)

# Objects of other projects named in docstrings: the build has no network to
# resolve them against those projects' inventories, so they are accepted as
# they are. Only external names belong here; an rntk name that does not
# resolve is an error.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|sklearn|dask|concurrent|collections|typing)(\..*)?"),
    (r"py:.*", r"(os|dataclasses|pathlib|threading|multiprocessing|warnings|io|abc)(\..*)?"),
    (r"py:.*", r"python:.*"),
    (r"py:.*", r"(ValueError|TypeError|RuntimeError|OverflowError|UserWarning|Warning)"),
    (r"py:.*", r"(NotImplementedError|FileNotFoundError|KeyError|Exception|ArithmeticError)"),
    (r"py:.*", r"(int|float|str|bool|list|tuple|dict|callable|object|None|True|False)"),
]

# --------------------------------------------------------------------------- HTML

html_theme = "pydata_sphinx_theme"
html_title = f"rntk {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []


# --------------------------------------------------------------------------- re-exports


def _documented_name(app, obj) -> str | None:
    """The name under which ``obj`` is documented, if it is.

    The table is made once per build, when the first reference is resolved
    (all pages have been read by then), and kept on ``app``, not on the
    environment: ids of objects mean nothing in the next process.
    """
    table = getattr(app, "_rntk_documented", None)
    if table is None:
        table = {}
        domain = app.env.get_domain("py")
        for name, entry in domain.objects.items():
            if not name.startswith("rntk") or entry.objtype == "module":
                continue
            try:
                value = _import_dotted(name)
            except (ImportError, AttributeError):
                continue
            # Only objects with an identity of their own: two constants may be
            # the same small int or string.
            if callable(value) or inspect.isdatadescriptor(value):
                table.setdefault(id(value), name)
        app._rntk_documented = table
    return table.get(id(obj))


def _import_dotted(dotted: str):
    """Import the longest module prefix of ``dotted``, then follow attributes."""
    parts = dotted.split(".")
    for stop in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:stop]))
        except ImportError:
            continue
        for part in parts[stop:]:
            value = (
                inspect.getattr_static(value, part)
                if inspect.isclass(value)
                else getattr(value, part)
            )
        return value
    raise ImportError(dotted)


def resolve_reexports(app, env, node, contnode):
    """Resolve a reference to an object by any path that reaches it.

    ``:class:`rntk.activations.ReLU``` and, inside ``rntk.activations``,
    ``:class:`ReLU``` both name the object documented as ``rntk.ReLU``. A name
    that imports but has no page of its own (a private helper) is kept as
    text; a name that does not import stays unresolved, which fails the build.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    module, cls = node.get("py:module"), node.get("py:class")
    candidates = [target]
    if module:
        if cls:
            candidates.insert(0, f"{module}.{cls}.{target}")
        candidates.insert(len(candidates) - 1, f"{module}.{target}")
    # A bare name in a docstring of an object documented as rntk.NAME: the
    # module that defines it is not known here, so look for the one public
    # module that exports the name.
    first = target.split(".")[0]
    holders = [
        name
        for name in _public_modules()
        if first in getattr(importlib.import_module(name), "__all__", ())
    ]
    if len(holders) == 1:
        candidates.append(f"{holders[0]}.{target}")
    for candidate in candidates:
        if not candidate.startswith("rntk"):
            continue
        try:
            obj = _import_dotted(candidate)
        except (ImportError, AttributeError):
            continue
        documented = _documented_name(app, obj)
        if documented is None:
            # It exists but has no page (a private helper a docstring names):
            # keep the name as text.
            return contnode
        domain = env.get_domain("py")
        return domain.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], documented, node, contnode
        ) or domain.resolve_xref(
            env, node["refdoc"], app.builder, "obj", documented, node, contnode
        )
    return None


# --------------------------------------------------------------------------- examples

#: The figure each example writes (``show(figure, args.out / NAME)``) and the
#: copy of it kept in ``docs/``.
EXAMPLE_FIGURES = {
    ("quickstart", "prediction.png"): "quickstart_prediction.png",
    ("fig2_convergence", "fig2_convergence.png"): "fig2_convergence.png",
    ("fig3_sensitivity", "fig3_sensitivity.png"): "fig3_sensitivity.png",
    ("fig4_regression", "fig4_regression.png"): "fig4_regression.png",
    ("ucr_defaults", "defaults.png"): "ucr_defaults.png",
    ("ucr_classification", "rntk_vs_best_baseline.png"): "ucr_rntk_vs_best_baseline.png",
    ("ucr_classification", "rntk_heads.png"): "ucr_rntk_heads.png",
    ("large_scale", "accuracy.png"): "large_scale.png",
}
#: A PNG file name written as a string literal (``f"{NAME}.png"`` too).
PNG_LITERAL = re.compile(r"""["'](?P<file>[\w.{}-]+\.png)["']""")


def example_page(script: Path) -> str:
    """A MyST page of one percent-format example: its prose, its code, its figures."""
    import jupytext

    notebook = jupytext.read(script)
    name = script.stem
    parts = []
    for cell in notebook.cells:
        source = cell.source.strip("\n")
        if not source:
            continue
        if cell.cell_type == "markdown":
            parts.append(source)
            continue
        parts.append(f"```python\n{source}\n```")
        if "show(" not in source:
            continue
        # The cell draws a figure: show the copy of it that docs/ keeps.
        files = [
            match.group("file").replace("{NAME}", name) for match in PNG_LITERAL.finditer(source)
        ]
        if not files:
            raise ValueError(f"examples/{name}.py: a cell calls show() but names no .png file")
        for file in files:
            figure = EXAMPLE_FIGURES.get((name, file))
            if figure is None:
                raise KeyError(
                    f"examples/{name}.py shows {file}, which has no copy in docs/: "
                    "add one to EXAMPLE_FIGURES in docs/conf.py"
                )
            parts.append(f"```{{image}} ../{figure}\n:alt: {file}\n```")
    source_link = (
        f"*This page is `examples/{name}.py`, shown without running it; the figures "
        "are those of a default run.*"
    )
    title_end = parts[0].find("\n") if parts and parts[0].startswith("# ") else -1
    if title_end == -1:
        return "\n\n".join([f"# {name}", source_link, *parts]) + "\n"
    parts[0] = parts[0][:title_end] + "\n\n" + source_link + "\n" + parts[0][title_end:]
    return "\n\n".join(parts) + "\n"


def render_examples(app) -> None:
    """Write ``docs/examples/NAME.md`` for each example, only where it changed."""
    folder = DOCS / "examples"
    folder.mkdir(exist_ok=True)
    scripts = sorted(
        path for path in (ROOT / "examples").glob("*.py") if not path.stem.startswith("_")
    )
    wanted = {folder / f"{script.stem}.md" for script in scripts}
    for stale in set(folder.glob("*.md")) - wanted:
        stale.unlink()
    for script in scripts:
        page = folder / f"{script.stem}.md"
        text = example_page(script)
        if not page.is_file() or page.read_text(encoding="utf-8") != text:
            page.write_text(text, encoding="utf-8")


def skip_generated_members(app, what, name, obj, skip, options):
    """Leave out the ``set_*_request`` methods scikit-learn adds to every estimator."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", skip_generated_members)
    app.connect("builder-inited", render_examples)
    app.connect("missing-reference", resolve_reexports)
