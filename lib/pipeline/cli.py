"""The book's command line: list chapters, run one with papermill at a profile, build the HTML book.

    python -m lib list
    python -m lib run 2 --profile book -p n_test=500
    python -m lib run all --profile smoke
    python -m lib build
    python -m lib build --student

Chapters are the jupytext files ``notebooks/NN_slug.py``. ``run`` validates the chapter, the profile and every
``-p name=value`` against the declared type and range of the parameter in the notebook's ``parameters`` cell
(papermill itself would accept anything; see :mod:`lib.pipeline.parameters`) before papermill starts, and writes
the executed notebook to ``book/chapters/NN_slug.ipynb`` (ignored by git), with the repository root as working
directory. ``list`` shows each parameter's default and declaration. ``build`` runs Jupyter Book 1 without
execution and fails on any warning or error in its log, since jupyter-book can exit 0 after failures.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lib.pipeline.parameters import Parameter, ParameterError, read_parameters
from lib.pipeline.profiles import PROFILES
from lib.pipeline.watchdog import StallWatchdog
from lib.pipeline.widgets import HEADLESS_ENV
from lib.pipeline.results import git_commit
from lib.pipeline.status import METADATA_KEY, status_markdown, write_map_figure

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO_ROOT / "notebooks"
EXECUTED = REPO_ROOT / "book" / "chapters"
BUILD_DIR = REPO_ROOT / "_build"
STUDENT_DIR = BUILD_DIR / "student"
STATUS_PAGE = REPO_ROOT / "book" / "status.md"
MAP_FIGURES = REPO_ROOT / "book" / "_generated"  # one figure per chapter for the intro's map (ignored by git)
# What the pages load from book/_static/ instead of a CDN (_config.yml: mathjax_path, nb_ipywidgets_js).
LOCAL_SCRIPTS = tuple(REPO_ROOT / "book" / "_static" / f for f in ("mathjax/tex-mml-chtml.js", "widgets/require.js",
                                                                   "widgets/embed-amd.js"))
_LOG_PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL|SEVERE)\b|Traceback \(most recent call last\)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Sphinx colours its log: "\x1b[91mWARNING: ..." has no word boundary


def log_problems(log: str) -> list[str]:
    """The lines of a build log that report a warning, an error or a traceback (colour codes removed)."""
    return [line for line in _ANSI.sub("", log).splitlines() if _LOG_PROBLEM.search(line)]


class BookError(Exception):
    """A user error on the command line: the message says what was wrong and what is valid."""


@dataclass(frozen=True)
class Chapter:
    number: int
    slug: str
    source: Path

    @property
    def stem(self) -> str:
        return self.source.stem

    @property
    def executed(self) -> Path:
        return EXECUTED / f"{self.stem}.ipynb"

    @property
    def title(self) -> str:
        for line in self.source.read_text().splitlines():
            m = re.match(r"#\s+#\s+(.+)", line)
            if m:
                return m.group(1).strip()
        return self.slug


def chapters() -> list[Chapter]:
    """Every chapter source ``notebooks/NN_slug.py``, by number."""
    found = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")):
        number, slug = path.stem.split("_", 1)
        found.append(Chapter(int(number), slug, path))
    return found


def get_chapter(name: str) -> Chapter:
    """A chapter by number (``2``, ``02``) or slug; an unknown one is a :class:`BookError` listing the valid ones."""
    for ch in chapters():
        if name in (str(ch.number), f"{ch.number:02d}", ch.slug, ch.stem):
            return ch
    valid = ", ".join(f"{ch.number} ({ch.slug})" for ch in chapters())
    raise BookError(f"unknown chapter {name!r}; valid chapters: {valid}, or 'all'")


def _read_notebook(path: Path):
    import jupytext

    return jupytext.read(path)


def notebook_parameters(path: Path) -> dict[str, Parameter]:
    """The parameters of the notebook's ``parameters`` cell, each with its default and declared type and range
    (see :mod:`lib.pipeline.parameters`); a :class:`BookError` for a cell that breaks those rules."""
    nb = _read_notebook(path)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise BookError(f"{path.name} must have exactly one cell tagged 'parameters' (found {len(cells)})")
    try:
        params = read_parameters(cells[0].source, path.name)
    except ParameterError as err:
        raise BookError(str(err)) from None
    if "profile" not in params:
        raise BookError(f"{path.name}: the parameters cell must define 'profile'")
    return params


def parse_overrides(pairs: list[str], params: dict[str, Parameter], chapter: Chapter) -> dict[str, object]:
    """``["n=5", "device=cuda"]`` -> ``{"n": 5, "device": "cuda"}``: each name must be a parameter of the notebook
    and each value must satisfy its declaration; a :class:`BookError` naming the parameter, the value and what is
    valid otherwise."""
    out = {}
    valid = ", ".join(f"{k}={p.default!r}" for k, p in params.items() if k != "profile")
    for pair in pairs:
        if "=" not in pair:
            raise BookError(f"-p takes name=value, not {pair!r}")
        name, text = pair.split("=", 1)
        if name == "profile":
            raise BookError("set the profile with --profile, not -p profile=...")
        if name not in params:
            raise BookError(f"chapter {chapter.number} ({chapter.slug}) has no parameter {name!r}; "
                            f"its parameters: {valid}")
        try:
            out[name] = params[name].parse(text)
        except ParameterError as err:
            raise BookError(f"chapter {chapter.number} ({chapter.slug}): {err}") from None
    return out


def check_overrides(overrides: dict[str, object], params: dict[str, Parameter], chapter: Chapter) -> None:
    """Typed values (from Python rather than the command line) against the declarations; BookError otherwise."""
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        raise BookError(f"chapter {chapter.number} ({chapter.slug}) has no parameters {unknown}; "
                        f"its parameters: {', '.join(k for k in params if k != 'profile')}")
    for name, value in overrides.items():
        try:
            params[name].check(value)
        except ParameterError as err:
            raise BookError(f"chapter {chapter.number} ({chapter.slug}): {err}") from None


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise BookError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")


# Seconds one cell may run before the run is declared stuck (None: no limit): a backstop for a cell that stays busy.
# A kernel that sits idle while a cell's reply is outstanding (a lost message: the nbclient/papermill fault class of
# jupyter/nbclient#312) is caught much sooner by the watchdog, after STALL_SECONDS without CPU; either way the chapter
# is rerun once (its sweeps are cached, so the rerun costs minutes at most), then the run fails naming the cell.
CELL_TIMEOUT = {"smoke": 300, "book": 3600, "paper": None}
STALL_SECONDS = 120.0


class _Stuck(Exception):
    """A cell ran past its limit or stalled; the message names the cell."""


def run_chapter(chapter: Chapter, profile: str, overrides: dict[str, object], log_output: bool = True,
                retries: int = 1) -> Path:
    """Execute a chapter with papermill into ``book/chapters/``; return the executed notebook's path.

    A failed run leaves no executed copy (so a build cannot render a half-run chapter); the partial output is kept
    as ``NN_slug.failed.ipynb`` for inspection. A cell that exceeds ``CELL_TIMEOUT`` or stalls (the kernel idle for
    ``STALL_SECONDS`` while the cell is outstanding) reruns the chapter (``retries`` times), then fails with a
    :class:`BookError` naming the cell's number and first line.
    """
    try:
        return _execute(chapter, profile, overrides, log_output)
    except _Stuck as err:
        if retries <= 0:
            raise BookError(f"chapter {chapter.number} ({chapter.slug}): {err}; see CELL_TIMEOUT and STALL_SECONDS "
                            f"in lib/pipeline/cli.py") from None
        print(f"[book] chapter {chapter.number}: {err}; rerunning the chapter once", flush=True)
        return run_chapter(chapter, profile, overrides, log_output, retries - 1)


def _execute(chapter: Chapter, profile: str, overrides: dict[str, object], log_output: bool) -> Path:
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    check_profile(profile)
    check_overrides(overrides, notebook_parameters(chapter.source), chapter)
    EXECUTED.mkdir(parents=True, exist_ok=True)
    chapter.executed.unlink(missing_ok=True)
    partial = EXECUTED / f"{chapter.stem}.running.ipynb"
    start = time.perf_counter()
    print(f"[book] running chapter {chapter.number} ({chapter.slug}) at profile {profile!r} {overrides or ''}",
          flush=True)
    # The kernel inherits our environment: a non-interactive MPLBACKEND (Agg, as test runners set) would make
    # every figure vanish from the executed notebook, so the kernel always gets the inline backend.
    # GG_HEADLESS: widget cells show a static preview and open no widget comm (lib/pipeline/widgets.py).
    kernel_env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", HEADLESS_ENV: "1"}
    saved_env = {name: os.environ.get(name) for name in kernel_env}
    os.environ.update(kernel_env)
    watchdog = StallWatchdog(CELL_TIMEOUT[profile], idle_s=STALL_SECONDS)
    failed = EXECUTED / f"{chapter.stem}.failed.ipynb"
    try:
        with watchdog:
            pm.execute_notebook(_read_notebook(chapter.source), str(partial),
                                parameters={"profile": profile, **overrides}, kernel_name="python3",
                                cwd=str(REPO_ROOT), progress_bar=False, log_output=log_output,
                                execution_timeout=CELL_TIMEOUT[profile], timeout_func=watchdog.timeout_func)
    except pm.PapermillExecutionError as err:
        partial.replace(failed)
        raise BookError(f"chapter {chapter.number} ({chapter.slug}) failed in cell {err.exec_count}: "
                        f"{err.ename}: {err.evalue}\n(partial output: {failed})") from None
    except (CellTimeoutError, DeadKernelError) as err:
        if partial.exists():
            partial.replace(failed)
        if watchdog.stall is not None:
            raise _Stuck(str(watchdog.stall)) from None
        if isinstance(err, CellTimeoutError):
            raise _Stuck(f"a cell ran past {CELL_TIMEOUT[profile]} s ({err})") from None
        raise
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    tag_for_html(partial)
    record_commit(partial)
    partial.replace(chapter.executed)
    print(f"[book] chapter {chapter.number} done in {time.perf_counter() - start:.0f} s -> "
          f"{chapter.executed.relative_to(REPO_ROOT)}", flush=True)
    return chapter.executed


class DataMissing(BookError):
    """Data the chapters need is missing, cannot be fetched and has no stand-in; the message lists every file."""


def prepare_data(selected: list[Chapter], profile: str, overrides: dict[str, object]) -> None:
    """Before any chapter runs: make sure the data the ``selected`` chapters read at ``profile`` is on disk.

    Missing files (see :mod:`lib.data.needs`) are fetched from their official source or ``$GG_DATA_MIRROR``. What
    cannot be fetched is read from its embedded stand-in where one exists (``$GG_USE_STAND_INS=1`` for the kernels,
    which say so in their output and results); anything else raises :class:`DataMissing` with one message listing
    every missing file, its URL, size and destination, and the command that fetches them.
    """
    from lib.data.fetch import fetch, summary
    from lib.data.needs import chapter_groups, chapter_needs, has_stand_in, missing_files, missing_message, unmet
    from lib.data.needs import unmet_groups
    from lib.data.registry import STAND_IN_ENV

    root = str(overrides.get("data_root") or "") or None
    numbers = [c.number for c in selected]
    if unmet(chapter_needs(numbers, profile), root):
        print(f"[book] fetching the data these chapters need at profile {profile!r}", flush=True)
        outcomes = fetch(unmet(chapter_needs(numbers, profile), root), root, timeout=20.0, stop_when_offline=True)
        print(summary(outcomes), flush=True)
    left = unmet_groups(chapter_groups(numbers, profile), root)
    hard = [g for g in left if not any(has_stand_in(*need) for need in g.needs)]
    if hard:
        which = str(numbers[0]) if len(numbers) == 1 else "all"
        raise DataMissing(missing_message(missing_files([n for g in hard for n in g.needs], root), root,
                                          f"python -m lib.data fetch --chapter {which} --profile {profile}"))
    if left:
        os.environ[STAND_IN_ENV] = "1"
        names = ", ".join(f"{n} {s}" for g in left for n, s in g.needs if has_stand_in(n, s))
        print(f"[book] not on disk and not fetched: {names}; the chapters read their embedded stand-ins and say so",
              flush=True)


def tag_for_html(path: Path) -> None:
    """Tag the executed notebook at ``path`` so that the book leaves out its ``parameters`` cell and papermill's
    injected ``# Parameters`` cell (``remove-cell``): the page states the profile and parameters in the one line
    ``setup_chapter`` prints. The downloadable notebook keeps both cells."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if {"parameters", "injected-parameters"} & set(tags) and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, path)


def record_commit(path: Path) -> None:
    """Write the commit the chapter ran at into the executed notebook's metadata, for the status page."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata[METADATA_KEY] = {"commit": git_commit()}
    nbformat.write(nb, path)


def write_status_page() -> Path:
    """``book/status.md`` (ignored by git): how every executed chapter was made (lib/pipeline/status.py)."""
    executed = [(ch.number, ch.title, ch.source, ch.executed) for ch in chapters() if ch.executed.is_file()]
    STATUS_PAGE.write_text(status_markdown(executed))
    return STATUS_PAGE


def write_map_figures() -> list[Path]:
    """``book/_generated/NN_slug.png``: one figure of every executed chapter, shown on the intro's map."""
    return [write_map_figure(ch.executed, MAP_FIGURES / f"{ch.stem}.png") for ch in chapters() if ch.executed.is_file()]


def toc_chapters() -> list[Path]:
    """The executed notebooks the table of contents points at (entries under ``book/chapters/``)."""
    toc = (REPO_ROOT / "_toc.yml").read_text()
    return [REPO_ROOT / f"{m}.ipynb" for m in re.findall(r"file:\s*(book/chapters/[\w\-]+)", toc)]


def student_config() -> Path:
    """``_build/student/_config.yml``: the book's configuration with sphinx-exercise's ``hide_solutions`` on, so that
    the student edition has the exercises and not one solution, and without the pages' sources (``_sources/``: the
    executed notebooks, which hold the solutions) and without the download button that would point at them."""
    import yaml

    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    config["sphinx"]["config"].update(hide_solutions=True, html_copy_source=False,
                                      html_theme_options={"use_download_button": False})
    STUDENT_DIR.mkdir(parents=True, exist_ok=True)
    path = STUDENT_DIR / "_config.yml"
    path.write_text("# Generated by `python -m lib build --student` from _config.yml; do not edit.\n"
                    + yaml.safe_dump(config, sort_keys=False))
    return path


def html_dir(student: bool = False) -> Path:
    """Where ``build`` writes the HTML: ``_build/html``, or ``_build/student/_build/html`` for the student edition."""
    return STUDENT_DIR / "_build" / "html" if student else BUILD_DIR / "html"


def build(strict: bool = True, student: bool = False) -> Path:
    """Build the HTML book with Jupyter Book 1; with ``strict``, any warning or error in the log fails the build.
    With ``student``, build the student edition (no solutions) into ``_build/student/`` instead."""
    missing = [p for p in toc_chapters() if not p.is_file()]
    if missing:
        names = ", ".join(p.stem for p in missing)
        raise BookError(f"chapters not executed yet: {names}. Run `python -m lib run all --profile book` "
                        "(or --profile smoke) first.")
    absent = [str(p) for p in LOCAL_SCRIPTS if not p.is_file()]
    if absent:
        raise BookError(f"the scripts the book serves locally are missing ({', '.join(absent)}); `make install` "
                        "copies them from the npm registry (package.json)")
    write_status_page()
    write_map_figures()
    exe = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or shutil.which("jupyter-book")
    if exe is None:
        raise BookError("jupyter-book is not installed; `pip install -r requirements.txt`")
    cmd = [exe, "build", str(REPO_ROOT), "--builder", "html", "--keep-going"] + (["-W", "-n"] if strict else [])
    if student:
        cmd += ["--config", str(student_config()), "--path-output", str(STUDENT_DIR)]
    out = STUDENT_DIR if student else BUILD_DIR
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "build.log"
    print("[book] " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    log_path.write_text(log)
    print(log)
    problems = log_problems(log)
    if proc.returncode != 0 or (strict and problems):
        shown = "\n".join(problems[:30])
        raise BookError(f"the book build failed (exit {proc.returncode}, {len(problems)} warning/error lines; "
                        f"full log: {log_path}):\n{shown}")
    index = html_dir(student) / "index.html"
    print(f"[book] built {index}")
    return index


def _executed_profile(chapter: Chapter) -> str:
    if not chapter.executed.is_file():
        return "not executed"
    import nbformat

    params = nbformat.read(chapter.executed, as_version=4).metadata.get("papermill", {}).get("parameters", {})
    return f"executed at profile {params.get('profile', '?')}"


def list_chapters() -> None:
    for ch in chapters():
        params = notebook_parameters(ch.source)
        shown = "".join(f"\n      {p.name} = {p.default!r}  ({p.declaration})" for p in params.values()
                        if p.name != "profile")
        print(f"{ch.number:2d}  {ch.slug:<24s} {ch.title}\n    parameters:{shown}\n    {_executed_profile(ch)}")
    print(f"profiles: {', '.join(PROFILES)}")


def _executed_seconds(chapter: Chapter) -> float | None:
    """Wall time of the chapter's last executed run, from papermill's metadata (None if not executed)."""
    if not chapter.executed.is_file():
        return None
    import json

    meta = json.loads(chapter.executed.read_text()).get("metadata", {}).get("papermill", {})
    return meta.get("duration")


def confirm_scale(profile: str, plans: list[tuple[Chapter, dict]], yes: bool) -> None:
    """The ``paper`` profile is sized for a GPU: where none is found, refuse to start (naming the chapters, what
    their last executed run cost here and how to go on) unless ``yes`` or every chapter runs shrunk."""
    import torch

    if profile != "paper" or yes or torch.cuda.is_available() or all(o.get("shrink") for _, o in plans):
        return
    costs = []
    for ch, _ in plans:
        seconds = _executed_seconds(ch)
        costs.append(f"chapter {ch.number}: " + (f"its last run here ({_executed_profile(ch)}) took {seconds:.0f} s"
                                                 if seconds else "not executed here yet"))
    raise BookError("the paper profile is sized for one GPU (hours; the papers' grids are tens to hundreds of times "
                    "the book profile's) and no CUDA device is available here. " + "; ".join(costs) + ". Add --yes "
                    "to run it on this CPU anyway, or -p shrink=True to run its code paths at smoke sizes.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list chapters, their parameters (default, type and range) and what has been executed")
    run = sub.add_parser("run", help="execute chapters with papermill")
    run.add_argument("chapter", help="chapter number or slug, or 'all'")
    run.add_argument("--profile", default="book", help=f"one of {', '.join(PROFILES)} (default: book)")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="override a parameter of the notebook (repeatable)")
    run.add_argument("--quiet", action="store_true", help="do not echo the notebook's output")
    run.add_argument("--yes", action="store_true", help="run the paper profile even where no GPU is found")
    b = sub.add_parser("build", help="build the HTML book from the executed chapters")
    b.add_argument("--no-strict", action="store_true", help="do not fail on warnings")
    b.add_argument("--student", action="store_true",
                   help="the student edition: exercises without their solutions, in _build/student/_build/html")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            list_chapters()
        elif args.command == "run":
            check_profile(args.profile)
            selected = chapters() if args.chapter == "all" else [get_chapter(args.chapter)]
            plans = [(ch, parse_overrides(args.param, notebook_parameters(ch.source), ch)) for ch in selected]
            confirm_scale(args.profile, plans, args.yes)
            prepare_data(selected, args.profile, plans[0][1])
            for ch, overrides in plans:
                run_chapter(ch, args.profile, overrides, log_output=not args.quiet)
        else:
            build(strict=not args.no_strict, student=args.student)
    except BookError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0

