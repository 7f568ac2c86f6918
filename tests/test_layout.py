"""The house rules of DESIGN.md: lib/ in wings, imports only downwards, one experiment module per chapter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LIB = REPO / "lib"
# Highest first: a module may import from its own wing and from the wings after it (DESIGN.md, "Import rule").
WINGS = ("experiments", "measures", "training", "nets", "pipeline", "data")
RANK = {wing: len(WINGS) - i for i, wing in enumerate(WINGS)}
ENTRY_POINTS = ("lib/__init__.py", "lib/__main__.py")  # may import any wing


def wing_of(module: str) -> str | None:
    """``lib.measures.ntk`` -> ``measures``; ``None`` outside lib."""
    parts = module.split(".")
    return parts[1] if parts[0] == "lib" and len(parts) > 1 else None


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import of the source, at any depth (function-level imports too); relative imports
    are reported as ``.relative`` so that the rule can refuse them."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or "") if node.level else node.module))
            if node.level == 0 and node.module and node.module.split(".")[0] == "lib" and node.module.count(".") < 2:
                # from lib import measures / from lib.experiments import linear_regions: the names are modules
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def violations(path: str, source: str) -> list[str]:
    """Every import of ``source`` (the module at ``path``, relative to the repository) that breaks the rule."""
    here = Path(path).parts
    if path in ENTRY_POINTS:
        return [f"{path}:{line}: relative import {m}" for line, m in imported_modules(source) if m.startswith(".")]
    wing = here[1]
    out = []
    for line, module in imported_modules(source):
        if module.startswith("."):
            out.append(f"{path}:{line}: relative import {module!r}; write lib.<wing>.<module>")
            continue
        target = wing_of(module)
        if target is None:
            continue
        if target not in RANK:
            out.append(f"{path}:{line}: imports {module}, which is in no wing of {WINGS}")
        elif RANK[target] > RANK[wing]:
            out.append(f"{path}:{line}: {wing} imports {module} ({target} is above {wing})")
        elif wing == target == "experiments" and module != "lib.experiments":
            out.append(f"{path}:{line}: one chapter's experiment imports another's ({module}); move what they share "
                       "down a wing")
    return out


def lib_modules() -> list[Path]:
    return sorted(p for p in LIB.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_lives_in_a_wing():
    stray = [str(p.relative_to(REPO)) for p in lib_modules()
             if str(p.relative_to(REPO)) not in ENTRY_POINTS and p.relative_to(LIB).parts[0] not in WINGS]
    assert not stray, f"modules outside the wings {WINGS}: {stray}"


def test_imports_only_go_downwards():
    problems = [v for p in lib_modules() for v in violations(str(p.relative_to(REPO)), p.read_text())]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path, source, expected", [
    ("lib/measures/ntk.py", "from lib.experiments.relative_stability import run_model\n", "measures imports"),
    ("lib/measures/ntk.py", "def f():\n    import lib.experiments.linear_regions\n", "measures imports"),
    ("lib/data/registry.py", "from lib.nets.classifiers import FCNet\n", "data imports"),
    ("lib/nets/vae.py", "from lib import training\n", "nets imports lib.training"),
    ("lib/measures/ntk.py", "from .statistics import pearson\n", "relative import"),
    ("lib/experiments/linear_regions.py", "from lib.experiments.manifold_quality import run_encoder\n",
     "one chapter's experiment"),
    ("lib/experiments/linear_regions.py", "from lib.experiments import manifold_quality\n", "one chapter's experiment"),
])
def test_the_rule_catches_an_upward_import(path, source, expected):
    problems = violations(path, source)
    assert len(problems) == 1 and expected in problems[0], problems


def test_downward_and_same_wing_imports_pass():
    source = ("from lib.measures.diffeomorphisms import remap\nfrom lib.training.supervised import predict\n"
              "from lib.data import load_dataset\nimport torch\n")
    assert violations("lib/measures/relative_stability.py", source) == []


def test_one_experiment_module_per_chapter():
    """Each chapter has ``lib/experiments/<slug>.py``; a chapter may add ``<slug>_<what>.py`` (an experiment added
    after its committed long runs: their code fingerprints hash the whole module, so a new module keeps them valid);
    every experiment module names its chapter."""
    chapters = {p.stem.split("_", 1)[1] for p in (REPO / "notebooks").glob("[0-9][0-9]_*.py")} - {"data"}
    modules = {p.stem for p in (LIB / "experiments").glob("*.py")} - {"__init__"}
    experiments = {m for m in modules if m in chapters}
    orphans = {m for m in modules - chapters if not any(m.startswith(f"{c}_") for c in chapters)}
    assert chapters == experiments and not orphans, \
        f"notebooks without an experiment module: {sorted(chapters - experiments)}; experiment modules without a " \
        f"notebook: {sorted(orphans)}"


def test_tests_follow_the_wings():
    """tests/<wing>/test_<module>[_<topic>].py for every test of a lib module; only the book's end-to-end tests (the
    build, the built book in a browser) and this one sit at the top."""
    top = sorted(p.name for p in (REPO / "tests").glob("test_*.py"))
    assert top == ["test_book.py", "test_browser.py", "test_layout.py"], top
    for folder in (REPO / "tests").iterdir():
        if folder.is_dir() and folder.name != "__pycache__":
            assert folder.name in WINGS, f"tests/{folder.name} is not a wing of lib"
            modules = {p.stem for p in (LIB / folder.name).glob("*.py")}
            for test in folder.glob("test_*.py"):
                assert any(test.stem[5:] == m or test.stem[5:].startswith(m + "_") for m in modules), \
                    f"{test.relative_to(REPO)} names no module of lib/{folder.name}"


def test_design_note_draws_every_folder():
    """DESIGN.md's layout block lists every folder of lib/ and benchmarks/ (the note is the one truth)."""
    design = (REPO / "DESIGN.md").read_text()
    block = design[design.index("## Layout"):design.index("## Import rule")]
    folders = [p.relative_to(REPO) for root in (LIB, REPO / "benchmarks") for p in [root, *root.rglob("*")]
               if p.is_dir() and "__pycache__" not in p.parts]
    missing = [str(f) for f in folders if f"{f.name}/" not in block]
    assert not missing, f"DESIGN.md's layout does not draw {missing}"


def test_the_lock_pins_every_requirement_within_its_range():
    """requirements.lock (pip-compile of requirements.txt, what `make install` and CI install) is not stale: every
    requirement has an exact pin there that its specifier allows. Regenerate with `make lock`."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            req = Requirement(line.split("#")[0].strip())
            pins[canonicalize_name(req.name)] = next(iter(req.specifier)).version
    for line in (REPO / "requirements.txt").read_text().splitlines():
        text = line.split("#")[0].strip()
        if text:
            req = Requirement(text)
            name = canonicalize_name(req.name)
            assert name in pins, f"{req.name} is in requirements.txt but not in requirements.lock: run `make lock`"
            assert req.specifier.contains(pins[name], prereleases=True), \
                f"requirements.lock pins {req.name}=={pins[name]}, outside {req.specifier}: run `make lock`"


def test_the_api_reference_documents_every_module():
    """book/api/<wing>.md has an automodule directive for every module of the wing, so nothing public is hidden."""
    for wing in WINGS:
        page = (REPO / "book" / "api" / f"{wing}.md").read_text()
        for module in sorted(p.stem for p in (LIB / wing).glob("*.py") if p.stem != "__init__"):
            assert f".. automodule:: lib.{wing}.{module}\n" in page, f"book/api/{wing}.md lacks lib.{wing}.{module}"


def headings_in_code_cells(source: str) -> list[tuple[int, str]]:
    """(line, text) of every Markdown heading (``# ## ...``) that a jupytext percent notebook has put inside a code
    cell, where it is a comment: hidden from the rendered book and its table of contents."""
    found, kind = [], None
    for i, line in enumerate(source.splitlines(), 1):
        if line.startswith("# %%"):
            kind = "markdown" if "[markdown]" in line else "code"
        elif kind == "code" and line.startswith("# #") and line[2:].lstrip("#").startswith(" "):
            found.append((i, line))
    return found


def test_no_chapter_heading_is_hidden_in_a_code_cell():
    notebooks = sorted((REPO / "notebooks").glob("*.py"))
    assert notebooks
    hidden = [f"{p.name}:{i}: {line}" for p in notebooks for i, line in headings_in_code_cells(p.read_text())]
    assert not hidden, "Markdown headings inside code cells (a missing '# %% [markdown]'):\n" + "\n".join(hidden)


def test_the_heading_rule_catches_a_missing_markdown_marker():
    source = "# %%\nx = 1\n#\n# ## Paper vs here\n\n# %% [markdown]\n# ## Fine\n# %%\n# #not a heading\n"
    assert headings_in_code_cells(source) == [(4, "# ## Paper vs here")]
