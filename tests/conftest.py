"""Shared fixtures: the offline data root ($GG_DATA_ROOT), an empty data root, a local HTTP mirror."""

from __future__ import annotations

import http.server
import os
import threading
from pathlib import Path

import matplotlib
import pytest

from lib.data import registry

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]


def _offline_root() -> Path | None:
    candidate = os.environ.get("GG_DATA_ROOT")
    if candidate and (Path(candidate) / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").is_file():
        return Path(candidate)
    return None


# The real files the unit tests read (the chapters' own needs are fetched by test_book.py as `lib run` does).
TEST_NEEDS = (("mnist", "test"), ("kmnist", "test"), ("omniglot_oneshot", "test"), ("pneumoniamnist", "test"),
              ("breastmnist", "test"))


def _mirrored_root() -> Path | None:
    """With $GG_DATA_MIRROR set (and no $GG_DATA_ROOT holding the data): the user data root, after fetching what
    the tests read through the mirror, as `python -m lib.data fetch` would."""
    if not os.environ.get("GG_DATA_MIRROR"):
        return None
    from lib.data.fetch import fetch
    from lib.data.root import download_root

    root = download_root()
    fetch(TEST_NEEDS, progress=False, timeout=30.0)
    return root if (root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").is_file() else None


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real-data root ($GG_DATA_ROOT, else what a mirror serves); tests that need it are skipped, with the
    reason, where it is absent."""
    root = _offline_root() or _mirrored_root()
    if root is None:
        pytest.skip("needs downloaded data: run `python -m lib.data fetch --chapter all --profile smoke` and set "
                    "GG_DATA_ROOT to that data root (or set GG_DATA_MIRROR to a mirror)")
    return root


class _Handler(http.server.SimpleHTTPRequestHandler):
    truncate: set[str] = set()
    requests: list[str] = []

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        if self.path.lstrip("/") in self.truncate:  # promise the whole file, send half, close
            body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A folder served over HTTP on 127.0.0.1 with the data root's layout; yields (folder, url, handler class)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    handler = type("Handler", (_Handler,), {"truncate": set(), "requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    monkeypatch.setenv("GG_DATA_MIRROR", url)
    yield folder, url, handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    """An empty data root as $GG_DATA_ROOT, an empty user cache, stand-ins not allowed."""
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv("GG_DATA_ROOT", str(root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(registry.STAND_IN_ENV, "0")  # (and restored after the test, whatever the test sets)
    return root




@pytest.fixture
def offline(monkeypatch):
    """No network: ``GG_DATA_MIRROR`` points at a closed port on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("GG_DATA_MIRROR", f"http://127.0.0.1:{port}/data")


@pytest.fixture
def build_book(monkeypatch):
    """``build_book(student=False)``: the strict HTML build (:func:`lib.pipeline.cli.build`), skipped with the reason
    and the fetch command where chapters are missing because their data is (their smoke tests were skipped too)."""
    from lib.data.registry import STAND_IN_ENV
    from lib.pipeline import cli

    def build(student: bool = False):
        try:
            return cli.build(strict=True, student=student)
        except cli.BookError as err:
            unexecuted = [c for c in cli.chapters() if not c.executed.is_file()]
            if not unexecuted or "not executed yet" not in str(err):
                raise
            monkeypatch.setenv(STAND_IN_ENV, os.environ.get(STAND_IN_ENV, "0"))
            reasons = []
            for chapter in unexecuted:
                try:
                    cli.prepare_data([chapter], "smoke", {})
                except cli.DataMissing as missing:
                    reasons.append(f"chapter {chapter.number} needs downloaded data: {missing}")
            if len(reasons) < len(unexecuted):
                raise  # a chapter with its data that did not execute: a failure, not a skip
            pytest.skip("the book needs every chapter executed; " + "\n".join(reasons))

    return build
