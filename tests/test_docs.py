"""The documentation's links and names resolve, and nothing cites a document outside the repository.

Three checks on the repository itself, each reporting every failure at once:

* every relative reference to a heading of a Markdown file (a path ending in
  ``.md``, then ``#`` and an anchor; in any text file: source, tests, examples,
  benchmarks, the Markdown files), and every ``[text](#anchor)`` within a
  Markdown file, names an existing file of the repository and an anchor that
  GitHub generates for one of its headings;
* no text file mentions the outside specification, by its path or by citing
  its numbered sections;
* every dotted name ``rntk.module.name`` written in backticks (inline or in a
  fenced block) in ``README.md``, ``CONTRIBUTING.md`` and the Markdown pages
  of ``docs/`` imports and resolves.

Then the documentation site's sources: the API reference lists every public
name and every module of the package, every relative link of a Markdown
document names a file that exists, and CI builds the site with the command
the README gives. (The build itself, with warnings as errors, is the check
that every cross-reference resolves; ``.ci/run`` runs it.)

The checkers take the repository root as an argument, so the last tests run
them on small trees built in a temporary directory, with a broken link, a
forbidden mention and a name that does not resolve, to show that they fail
when they should.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Where the repository's text lives: folders searched recursively, and top-level files.
TEXT_FOLDERS = ("src", "tests", "examples", "benchmarks", "docs", ".ci")
TOP_LEVEL_FILES = ("README.md", "CONTRIBUTING.md", "pyproject.toml")
#: Folders never searched (caches, build output).
SKIPPED_FOLDERS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", "build", "dist"}
#: What the documentation build writes inside docs/: the site, the API pages
#: made from the docstrings and the pages made from examples/.
GENERATED_FOLDERS = ("docs/_build", "docs/generated", "docs/examples")
#: Suffixes of files that are not text.
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".pdf", ".npy", ".npz", ".gz", ".zip", ".pyc"}

#: A ``.md`` path, ``#`` and an anchor, not inside a longer path or a URL (``https:``).
MARKDOWN_LINK = re.compile(
    r"(?<![A-Za-z0-9_./:\\-])(?P<path>[A-Za-z0-9_./-]*\.md)#(?P<anchor>[A-Za-z0-9_-]+)"
)
#: ``[text](#anchor)``: a link to a heading of the same Markdown file.
SAME_FILE_LINK = re.compile(r"\]\(#(?P<anchor>[A-Za-z0-9_-]+)\)")

#: Mentions of the specification that lives outside the repository. The strings
#: are assembled here so that this file does not contain them itself.
OUTSIDE_PATHS = ("../" + "shared", "rntk-" + "math.md")
#: A citation of a numbered section of that specification: the word spec, optionally
#: the word section, then a number (across a line break and a comment marker too).
OUTSIDE_CITATION = re.compile(r"\bspec(?:[\s#]+section)?[\s#]+\d", re.IGNORECASE)

#: ``rntk.a.b`` not inside a longer name or path, and not followed by more of one.
DOTTED_NAME = re.compile(r"(?<![\w./-])rntk(?:\.[A-Za-z_]\w*)+(?![\w/-])")
#: Final components that make a dotted name a file name rather than a Python path.
FILE_SUFFIXES = {"py", "md", "txt", "json", "csv", "npy", "png", "toml", "cfg", "ini", "yml"}


# --------------------------------------------------------------------------- helpers


def is_generated(relative: Path) -> bool:
    """Whether a path (relative to the root) is output of the documentation build."""
    return any(relative.is_relative_to(folder) for folder in GENERATED_FOLDERS)


def markdown_documents(root: Path) -> list[Path]:
    """README.md, CONTRIBUTING.md and the Markdown pages of docs/ (not the generated ones)."""
    pages = [
        path
        for path in sorted(root.glob("docs/**/*.md"))
        if not is_generated(path.relative_to(root))
    ]
    return [root / "README.md", root / "CONTRIBUTING.md", *pages]


def text_files(root: Path) -> list[Path]:
    """The repository's text files under ``root``, sorted."""
    candidates = [root / name for name in TOP_LEVEL_FILES]
    for folder in TEXT_FOLDERS:
        if (root / folder).is_dir():
            candidates.extend((root / folder).rglob("*"))
    files = []
    for path in candidates:
        relative = path.relative_to(root)
        if not path.is_file() or path.suffix.lower() in BINARY_SUFFIXES:
            continue
        if any(part in SKIPPED_FOLDERS for part in relative.parts[:-1]):
            continue
        if is_generated(relative):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if "\0" not in text:
            files.append(path)
    return sorted(set(files))


def _fenced_blocks(lines: list[str]) -> list[bool]:
    """For each line, whether it belongs to a fenced code block (fence lines included)."""
    inside, fence, flags = False, "", []
    for line in lines:
        stripped = line.lstrip()
        if not inside and re.match(r"(`{3,}|~{3,})", stripped) and len(line) - len(stripped) <= 3:
            inside, fence = True, re.match(r"(`{3,}|~{3,})", stripped).group(1)
            flags.append(True)
        elif inside and stripped.startswith(fence) and not stripped[len(fence) :].strip():
            inside = False
            flags.append(True)
        else:
            flags.append(inside)
    return flags


def github_anchor(heading: str) -> str:
    """The anchor GitHub makes of a heading's text (before numbering duplicates).

    Links and images keep their text and HTML tags are dropped (what GitHub
    renders); then the text is lower-cased, every character that is not a
    letter, digit, underscore, hyphen or space is dropped, and each space
    becomes a hyphen.
    """
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]*>", "", text)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def markdown_anchors(text: str) -> set[str]:
    """Every anchor of a Markdown text: its headings (ATX and setext) and HTML ids."""
    lines = text.splitlines()
    in_code = _fenced_blocks(lines)
    headings = []
    for index, line in enumerate(lines):
        if in_code[index]:
            continue
        atx = re.match(r"^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$", line)
        if atx:
            headings.append(atx.group(1) or "")
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if (
            line.strip()
            and not in_code[min(index + 1, len(lines) - 1)]
            and re.match(r"^ {0,3}(=+|-+)[ \t]*$", following)
            and not re.match(r"^ {0,3}([-*+]|\d+[.)])[ \t]", line)
        ):
            headings.append(line.strip())
    anchors, seen = set(), {}
    for heading in headings:
        anchor = github_anchor(heading)
        if anchor in seen:
            seen[anchor] += 1
            anchors.add(f"{anchor}-{seen[anchor]}")
        else:
            seen[anchor] = 0
            anchors.add(anchor)
    anchors.update(re.findall(r"<a\s+(?:id|name)=[\"']([^\"']+)[\"']", text))
    return anchors


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def broken_links(root: Path) -> list[str]:
    """Every reference to a Markdown heading that does not resolve, described."""
    root = root.resolve()
    anchors_of: dict[Path, set[str]] = {}

    def anchors(path: Path) -> set[str]:
        if path not in anchors_of:
            anchors_of[path] = markdown_anchors(path.read_text(encoding="utf-8"))
        return anchors_of[path]

    problems = []
    for path in text_files(root):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(root)
        for match in MARKDOWN_LINK.finditer(text):
            target, anchor = match.group("path"), match.group("anchor")
            # A Markdown link resolves against its file's folder (as on GitHub);
            # a plain mention, e.g. in a docstring, also against the repository root.
            is_link = path.suffix == ".md" and text[max(0, match.start() - 2) : match.start()] in (
                "](",
                '="',
            )
            bases = [path.parent] if is_link else [path.parent, root]
            resolved = [
                (base / target).resolve()
                for base in bases
                if (base / target).resolve().is_file()
                and (base / target).resolve().is_relative_to(root)
            ]
            line = _line_of(text, match.start())
            if not resolved:
                problems.append(
                    f"{where}:{line}: {target}#{anchor}: no such file in the repository"
                )
            elif anchor not in anchors(resolved[0]):
                problems.append(
                    f"{where}:{line}: {target}#{anchor}: no heading of "
                    f"{resolved[0].relative_to(root)} has this anchor"
                )
        if path.suffix == ".md":
            for match in SAME_FILE_LINK.finditer(text):
                if match.group("anchor") not in anchors(path):
                    problems.append(
                        f"{where}:{_line_of(text, match.start())}: #{match.group('anchor')}: "
                        "no heading of this file has this anchor"
                    )
    return problems


def outside_mentions(root: Path) -> tuple[list[str], list[str]]:
    """``(mentions of the outside specification's path, citations of its sections)``."""
    root = root.resolve()
    paths, citations = [], []
    for path in text_files(root):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(root)
        for needle in OUTSIDE_PATHS:
            start = text.find(needle)
            while start != -1:
                paths.append(f"{where}:{_line_of(text, start)}: mentions {needle!r}")
                start = text.find(needle, start + 1)
        for match in OUTSIDE_CITATION.finditer(text):
            cited = " ".join(match.group(0).split())
            citations.append(f"{where}:{_line_of(text, match.start())}: cites {cited!r}")
    return paths, citations


def documented_names(root: Path) -> list[tuple[str, str]]:
    """``(where, dotted name)`` for every ``rntk.x.y`` in backticks in the Markdown docs."""
    root = root.resolve()
    found = []
    for path in markdown_documents(root):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        in_code = _fenced_blocks([line.rstrip("\n") for line in lines])
        code, offset = [], 0
        for line, is_code in zip(lines, in_code, strict=True):
            if is_code:
                code.append((offset, line))
            offset += len(line)
        # Inline code spans in the prose (a span may run over a line break).
        # (code lines blanked, not removed, so that offsets still give line numbers).
        prose_text = "".join(
            re.sub(r"[^\n]", " ", line) if is_code else line
            for line, is_code in zip(lines, in_code, strict=True)
        )
        pieces = [
            (span.start(), span.group(2))
            for span in re.finditer(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", prose_text, re.S)
        ]
        pieces += code
        for start, piece in pieces:
            for match in DOTTED_NAME.finditer(piece):
                name = match.group(0)
                if name.rsplit(".", 1)[-1].lower() in FILE_SUFFIXES:
                    continue  # a file name such as rntk.py, not a Python path
                where = f"{path.relative_to(root)}:{_line_of(text, start + match.start())}"
                found.append((where, name))
    return found


def resolve(dotted: str):
    """Import the longest module prefix of ``dotted`` and look up the rest as attributes."""
    parts = dotted.split(".")
    for stop in range(len(parts), 0, -1):
        module_name = ".".join(parts[:stop])
        try:
            value = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            missing = error.name or ""
            if module_name == missing or module_name.startswith(missing + "."):
                continue  # this prefix is not a module: try a shorter one
            raise
        for attribute in parts[stop:]:
            value = getattr(value, attribute)
        return value
    raise ModuleNotFoundError(f"no module named {parts[0]!r}")


def unresolved_names(root: Path) -> list[str]:
    problems = []
    for where, name in documented_names(root):
        try:
            resolve(name)
        except (ImportError, AttributeError) as error:
            problems.append(f"{where}: `{name}` does not resolve ({type(error).__name__}: {error})")
    return problems


#: ``](target)``: the target of a Markdown link or image.
LINK_TARGET = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def missing_link_targets(root: Path) -> list[str]:
    """Every relative link of the Markdown documents whose file does not exist."""
    root = root.resolve()
    problems = []
    for path in markdown_documents(root):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        in_code = _fenced_blocks(lines)
        prose = "\n".join("" if code else line for line, code in zip(lines, in_code, strict=True))
        for match in LINK_TARGET.finditer(prose):
            target = match.group("target").split("#", 1)[0]
            if not target or re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue  # a link within the page, or a URL
            if not (path.parent / target).resolve().exists():
                problems.append(
                    f"{path.relative_to(root)}:{_line_of(prose, match.start())}: "
                    f"{target}: no such file"
                )
    return problems


def api_reference_entries(root: Path) -> set[str]:
    """The names the autosummary lists of ``docs/api.rst`` hold."""
    text = (root / "docs" / "api.rst").read_text(encoding="utf-8")
    entries, inside = set(), False
    for line in text.splitlines():
        if line.startswith(".. autosummary::"):
            inside = True
        elif inside and line.strip() and not line.startswith(" "):
            inside = False
        elif inside and re.fullmatch(r" {3}[A-Za-z_][\w.]*", line):
            entries.add(line.strip())
    return entries


def api_reference_gaps(root: Path) -> list[str]:
    """Public names and modules of rntk that the API reference does not list."""
    import rntk

    listed = api_reference_entries(root)
    package = root / "src" / "rntk"
    modules = {path.stem for path in package.glob("*.py")} | {
        path.name for path in package.iterdir() if (path / "__init__.py").is_file()
    }
    wanted = set(rntk.__all__) | {name for name in modules if not name.startswith("_")}
    problems = [f"{name}: not in docs/api.rst" for name in sorted(wanted - listed)]
    for name in sorted(listed):
        try:
            resolve(f"rntk.{name}")
        except (ImportError, AttributeError) as error:
            problems.append(f"docs/api.rst lists {name}, which does not resolve ({error})")
    return problems


# --------------------------------------------------------------------------- the repository


def test_the_math_document_exists_and_has_its_cited_sections():
    anchors = markdown_anchors((ROOT / "docs" / "math.md").read_text(encoding="utf-8"))
    for anchor in ("the-model", "the-recursion", "boundary-cases", "the-backward-form"):
        assert anchor in anchors


def test_every_markdown_anchor_link_resolves():
    problems = broken_links(ROOT)
    assert not problems, "broken links to Markdown headings:\n" + "\n".join(problems)


def test_no_file_mentions_the_outside_specification_by_path():
    paths, _ = outside_mentions(ROOT)
    assert not paths, "mentions of a document outside the repository:\n" + "\n".join(paths)


def test_no_file_cites_sections_of_the_outside_specification():
    _, citations = outside_mentions(ROOT)
    assert not citations, (
        "citations of the outside specification's sections; cite docs/math.md by anchor:\n"
        + "\n".join(citations)
    )


def test_dotted_names_in_the_markdown_documents_resolve():
    names = documented_names(ROOT)
    assert len(names) > 10, names  # the scan finds the documents' names at all
    problems = unresolved_names(ROOT)
    assert not problems, "names in the documentation that do not resolve:\n" + "\n".join(problems)


def test_relative_links_of_the_markdown_documents_name_existing_files():
    problems = missing_link_targets(ROOT)
    assert not problems, "links to files that do not exist:\n" + "\n".join(problems)


def test_the_api_reference_lists_every_public_name_and_module():
    # The reference's pages are generated from these lists; a name missing here
    # would be missing from the site, and a name that no longer resolves would
    # fail the build (this says which, without building).
    assert "kernel" in api_reference_entries(ROOT) and "sklearn" in api_reference_entries(ROOT)
    problems = api_reference_gaps(ROOT)
    assert not problems, "\n".join(problems)


def test_ci_builds_the_documentation_with_the_readme_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^(?:.*&& )?(python -m sphinx [^\n]+)$", readme, re.MULTILINE)
    assert len(commands) == 1, commands
    command = commands[0]
    assert " -W " in command and " -n " in command, command  # warnings fail, references resolve
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert any(line.strip() == command for line in ci.splitlines()), (command, ci)
    # and the README's test command is the one CI runs
    assert "&& python -m pytest\n" in readme
    assert any(line.strip() == "python -m pytest" for line in ci.splitlines()), ci


def test_modules_named_in_docstrings_are_what_their_dotted_path_gives():
    # ``rntk.kernel`` and ``rntk.sensitivity`` are functions; a module of the same
    # name would be hidden behind them, and ``:mod:`rntk.kernel``` would name
    # something ``rntk.kernel`` does not give. Every module a docstring names must
    # be reachable by attribute access from the package, as the reader types it.
    import rntk

    pattern = re.compile(r":mod:`~?(rntk(?:\.\w+)+)`")
    named = {
        match
        for path in sorted((ROOT / "src" / "rntk").rglob("*.py"))
        for match in pattern.findall(path.read_text())
    }
    assert "rntk.recursion" in named, sorted(named)  # the scan finds them at all
    problems = []
    for name in sorted(named):
        module = importlib.import_module(name)
        reached = rntk
        for part in name.split(".")[1:]:
            reached = getattr(reached, part, None)
        if reached is not module:
            problems.append(f"{name}: attribute access gives {reached!r}")
    assert not problems, "\n".join(problems)
    assert callable(rntk.kernel) and callable(rntk.sensitivity)


# --------------------------------------------------------------------------- the checkers


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("The recursion", "the-recursion"),
        ("Figure 2: convergence", "figure-2-convergence"),
        ("Read-out heads", "read-out-heads"),
        ("The `dual` map, (again)!", "the-dual-map-again"),
        ("float32", "float32"),
        ("Threads, Dask, memory maps", "threads-dask-memory-maps"),
        ("A [linked](other.md) word", "a-linked-word"),
    ],
)
def test_github_anchor_rule(heading, anchor):
    assert github_anchor(heading) == anchor


def test_anchors_number_duplicates_and_ignore_code_blocks():
    text = "# Title\n\n## Part\n\n```\n# not a heading\n```\n\n## Part\n\nSetext\n------\n"
    assert markdown_anchors(text) == {"title", "part", "part-1", "setext"}


def _write(root: Path, relative: str, text: str) -> None:
    """Write a fixture file. Links are written ``.MD`` here and become ``.md`` in the
    file, so that this test file holds no link of its own for the checker to find."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(".MD", ".md"), encoding="utf-8")


def test_the_link_checker_finds_broken_links(tmp_path):
    math_link = "docs/math.MD"
    _write(tmp_path, "docs/math.md", "# Maths\n\n## The recursion\n\nSee [below](#nowhere).\n")
    _write(
        tmp_path,
        "src/rntk/module.py",
        f'"""See {math_link}#the-recursion and {math_link}#the-recurson."""\n',
    )
    _write(tmp_path, "README.md", f"[ok]({math_link}#maths) [missing](docs/other.MD#maths)\n")
    _write(tmp_path, "docs/guide.md", "[up](../README.MD#nothing-here)\n")
    problems = broken_links(tmp_path)
    assert len(problems) == 4, problems
    assert any("module.py:1" in p and "#the-recurson" in p for p in problems)
    assert any("docs/other.md" in p and "#maths: no such file" in p for p in problems)
    assert any("guide.md:1" in p and "#nothing-here" in p for p in problems)
    assert any("math.md:5" in p and "#nowhere" in p for p in problems)


def test_the_link_checker_passes_good_links(tmp_path):
    math_link = "docs/math.MD"
    _write(tmp_path, "docs/math.md", "# Maths\n\n## Figure 2: convergence\n\n[up](#maths)\n")
    _write(tmp_path, "tests/test_x.py", f"# {math_link}#figure-2-convergence\n")
    _write(tmp_path, "docs/guide.md", "[m](math.MD#maths)\n")
    assert broken_links(tmp_path) == []


def test_the_mention_checker_finds_the_outside_specification(tmp_path):
    _write(tmp_path, "src/rntk/a.py", "# from " + OUTSIDE_PATHS[0] + "/spec/" + OUTSIDE_PATHS[1])
    # (The citations are split here so that this file does not cite anything itself.)
    citing = "# as in spec\n#    sec" + "tion 4, and (spec" + " 6)\n# find_spec 1\n"
    _write(tmp_path, "tests/test_a.py", citing)
    paths, citations = outside_mentions(tmp_path)
    assert len(paths) == 2 and all("src/rntk/a.py:1" in p for p in paths), paths
    assert len(citations) == 2, citations
    assert "tests/test_a.py:1" in citations[0] and "tests/test_a.py:2" in citations[1]


def test_the_file_link_checker_finds_missing_files(tmp_path):
    _write(tmp_path, "README.md", "[guide](docs/guide/index.MD) [gone](docs/gone.MD#x)\n")
    _write(tmp_path, "docs/guide/index.md", "![f](../fig.png) [w](https://example.org) [s](#t)\n")
    _write(tmp_path, "docs/_build/html/page.md", "[ignored](nowhere.MD)\n")
    problems = missing_link_targets(tmp_path)
    assert problems == [
        "README.md:1: docs/gone.md: no such file",
        "docs/guide/index.md:1: ../fig.png: no such file",
    ], problems


def test_the_api_reference_check_finds_gaps(tmp_path):
    _write(tmp_path, "src/rntk/extra_module.py", "")
    _write(tmp_path, "src/rntk/_private.py", "")
    _write(
        tmp_path,
        "docs/api.rst",
        ".. autosummary::\n   :toctree: generated\n\n   kernel\n   no_such_name\n\nText\n",
    )
    assert api_reference_entries(tmp_path) == {"kernel", "no_such_name"}
    problems = api_reference_gaps(tmp_path)
    assert "extra_module: not in docs/api.rst" in problems
    assert "RNTK: not in docs/api.rst" in problems
    assert not any("_private" in problem for problem in problems)
    assert any(problem.startswith("docs/api.rst lists no_such_name") for problem in problems)


def test_the_name_checker_finds_names_that_do_not_resolve(tmp_path):
    _write(
        tmp_path,
        "README.md",
        "Use `rntk.kernel(X)` and `rntk.heads.Head`, not `rntk.no_such_name`;\n"
        "the file `src/rntk.py` is not a name.\n\n```python\nrntk.RNTK.diag\n"
        "rntk.activations.NoSuchClass()\n```\n",
    )
    _write(tmp_path, "docs/notes.md", "`rntk.no_such_module.name`\n")
    assert [name for _, name in documented_names(tmp_path)] == [
        "rntk.kernel",
        "rntk.heads.Head",
        "rntk.no_such_name",
        "rntk.RNTK.diag",
        "rntk.activations.NoSuchClass",
        "rntk.no_such_module.name",
    ]
    problems = unresolved_names(tmp_path)
    assert len(problems) == 3, problems
    assert problems[0].startswith("README.md:1: `rntk.no_such_name`")
    assert problems[1].startswith("README.md:6: `rntk.activations.NoSuchClass`")
    assert problems[2].startswith("docs/notes.md:1: `rntk.no_such_module.name`")
