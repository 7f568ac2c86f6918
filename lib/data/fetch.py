"""Download datasets from their official sources (or a mirror), verified, atomically, resumably.

Each dataset's spec in :mod:`lib.data.registry` lists, per split, the official files (:class:`~lib.data.registry.Remote`:
path under the data root, URL, md5, size). :func:`fetch_split` downloads those that are missing into the data root:

- from ``$GG_DATA_MIRROR`` when set (``http://host/prefix/`` + the file's path under the data root: a mirror has the
  data root's layout), else from the official URL;
- into a temporary file beside the destination, md5 computed while streaming, with a tqdm progress bar in bytes;
- renamed into place only when complete and its md5 is the official one; a truncated transfer or a wrong checksum
  leaves nothing behind (:class:`ChecksumError` names the file and both checksums);
- archives (CIFAR-10) are extracted into a temporary folder, every member checked, then moved into place.

A file already present with the official md5 is skipped; a file present with another md5 (placed by hand) is kept
and reported as unverified, never overwritten. ``python -m lib.data fetch`` is the command line of this module.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from lib.data.registry import Remote, file_md5, find_files, get_spec
from lib.data.root import download_root, writable

MIRROR_ENV = "GG_DATA_MIRROR"
_BLOCK = 1 << 16


class FetchError(OSError):
    """A file could not be downloaded (network, HTTP error, truncated transfer)."""


class ChecksumError(FetchError):
    """A downloaded file's md5 is not the official one; nothing was kept."""


class UnreachableError(FetchError):
    """No connection to the server (offline, refused, timed out); an HTTP error status is a plain FetchError."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one official file: ``status`` is ``fetched``, ``present`` (official md5), ``unverified``
    (present by hand with another md5, kept), ``elsewhere`` (its split is on disk in another root or layout),
    ``refused`` (downloaded, but its md5 is not the official one: nothing kept) or ``failed`` (not downloaded);
    ``error`` says why, ``unreachable`` whether the server could not be reached; ``bytes`` downloaded."""

    dataset: str
    remote: Remote
    status: str
    bytes: int = 0
    error: str = ""
    unreachable: bool = False


def mirror_url() -> str | None:
    """``$GG_DATA_MIRROR`` with a trailing slash, or ``None`` when unset."""
    url = os.environ.get(MIRROR_ENV, "").strip()
    return (url.rstrip("/") + "/") if url else None


def source_url(remote: Remote, mirror: str | None = None) -> str:
    """Where ``remote`` is downloaded from: ``mirror`` + its path under the data root, else its official URL."""
    return mirror + remote.path if mirror else remote.url


def human_size(n: int, exact: bool = True) -> str:
    """``1648877`` -> ``'1.6 MB'`` (``'~1.6 MB'`` when not exact)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{'' if exact else '~'}{n / scale:.1f} {unit}"
    return f"{n} B"


def file_state(remote: Remote, root: Path) -> str:
    """``present`` (every output there with the official md5), ``unverified`` (all there, some md5 differs) or
    ``missing``."""
    outputs = [(root / path, md5) for path, md5 in remote.outputs()]
    if not all(p.is_file() for p, _ in outputs):
        return "missing"
    return "present" if all(file_md5(p) == md5 for p, md5 in outputs) else "unverified"


STALE_PART_SECONDS = 600.0  # a partial file untouched this long belongs to a killed fetch (SIGTERM, SIGKILL)


def _remove_stale_parts(target: Path) -> None:
    """Delete the partial files of ``target`` left by fetches that were killed (no ``finally`` runs on SIGKILL):
    those not written to for ``STALE_PART_SECONDS``; a fetch still running in another process keeps its own."""
    now = time.time()
    for part in target.parent.glob(f".{target.name}.*.part"):
        try:
            if now - part.stat().st_mtime > STALE_PART_SECONDS:
                part.unlink()
        except OSError:
            continue


def _download(url: str, remote: Remote, target: Path, progress: bool, timeout: float) -> int:
    """Stream ``url`` into a temporary file beside ``target``; check length and md5; rename. Returns the bytes."""
    from tqdm.auto import tqdm

    if not writable(target.parent):
        raise FetchError(f"cannot write {remote.path}: {target.parent} is read-only (set GG_DATA_ROOT to a writable "
                         f"folder, or --root)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(target)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)  # as a plain open() would: readable by others in a shared data root
    except OSError as err:
        raise FetchError(f"cannot write {remote.path} into {target.parent}: {err}") from None
    tmp = Path(tmp_name)
    try:
        digest, done = hashlib.md5(), 0
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length else remote.size
                with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=remote.path,
                          disable=not progress, mininterval=1.0) as bar:
                    for block in iter(lambda: response.read(_BLOCK), b""):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        bar.update(len(block))
        except urllib.error.HTTPError as err:  # the server answered: 404, 403, 500, ...
            raise FetchError(f"cannot download {remote.path} from {url}: HTTP {err.code} {err.reason}") from None
        except (urllib.error.URLError, OSError) as err:  # no connection, refused, timed out
            raise UnreachableError(f"cannot download {remote.path} from {url}: {getattr(err, 'reason', err)}") from None
        except ValueError as err:  # a malformed URL (GG_DATA_MIRROR)
            raise FetchError(f"cannot download {remote.path} from {url!r}: {err}") from None
        except http.client.HTTPException as err:  # IncompleteRead, RemoteDisconnected: the server stopped mid-file
            raise FetchError(f"cannot download {remote.path} from {url}: {type(err).__name__}: {err}") from None
        if length and done != int(length):
            raise FetchError(f"{remote.path}: the transfer from {url} stopped after {done} of {length} bytes")
        if digest.hexdigest() != remote.md5:
            raise ChecksumError(f"{remote.path}: md5 {digest.hexdigest()} of the file downloaded from {url} is not "
                                f"the official md5 {remote.md5}; the file was not kept")
        if remote.unpack:
            _unpack(tmp, remote, target.parent)
        else:
            os.replace(tmp, target)
        return done
    finally:
        tmp.unlink(missing_ok=True)


def _unpack(archive: Path, remote: Remote, root: Path) -> None:
    """Extract the members ``remote.unpack`` names into a temporary folder, check each md5, move them into place."""
    work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=root))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        for path, md5 in remote.unpack:
            member = work / path
            if not member.is_file():
                raise ChecksumError(f"{remote.path}: the archive has no member {path}; nothing was kept")
            if file_md5(member) != md5:
                raise ChecksumError(f"{remote.path}: member {path} has md5 {file_md5(member)}, not the official "
                                    f"{md5}; nothing was kept")
        for path, _ in remote.unpack:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            os.replace(work / path, root / path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fetch_split(name: str, split: str, root: str | os.PathLike | None = None, *, mirror: str | None = None,
                progress: bool = True, timeout: float = 60.0, strict: bool = True) -> list[Outcome]:
    """Download the official files of ``name``/``split`` that are missing under ``root`` (default: the first data
    root); return one :class:`Outcome` per file. ``mirror`` defaults to ``$GG_DATA_MIRROR``.

    With ``strict`` a failure raises :class:`FetchError` (or :class:`ChecksumError`) after the other files were
    tried; otherwise failures are returned as outcomes. Raises ``KeyError``/``ValueError`` for an unknown dataset or
    split and ``ValueError`` for a dataset without downloads (embedded or synthetic).
    """
    spec = get_spec(name)
    if split not in spec.splits:
        raise ValueError(f"dataset {name!r} has splits {list(spec.splits)}, not {split!r}")
    if spec.downloads is None:
        raise ValueError(f"dataset {name!r} ({spec.kind}) has nothing to download: it is {spec.source}")
    base = download_root(root)
    mirror = mirror if mirror is not None else mirror_url()
    outcomes = []
    for remote in spec.downloads(split):
        state = file_state(remote, base)
        if state != "missing":
            outcomes.append(Outcome(name, remote, state))
            continue
        try:
            n = _download(source_url(remote, mirror), remote, base / remote.path, progress, timeout)
            outcomes.append(Outcome(name, remote, "fetched", n))
        except FetchError as err:
            outcomes.append(Outcome(name, remote, "refused" if isinstance(err, ChecksumError) else "failed",
                                    error=str(err), unreachable=isinstance(err, UnreachableError)))
    failed = [o for o in outcomes if o.status in ("refused", "failed")]
    if strict and failed:
        kind = ChecksumError if any(o.status == "refused" for o in failed) else FetchError
        raise kind("; ".join(o.error for o in failed))
    return outcomes


def fetch(needs: Iterable[tuple[str, str]], root: str | os.PathLike | None = None, *, mirror: str | None = None,
          progress: bool = True, timeout: float = 60.0, stop_when_offline: bool = False) -> list[Outcome]:
    """:func:`fetch_split` of every (dataset, split) in ``needs`` not yet under a data root (those are reported as
    ``elsewhere`` when in another root or layout), each file once; failures are returned, not raised. With
    ``stop_when_offline``, once a server cannot be reached (not an HTTP error status) nothing more is tried (those
    files are reported failed, "not tried"), so that an offline machine learns it within one ``timeout``."""
    outcomes, seen, offline = [], set(), ""
    for name, split in needs:
        remotes = get_spec(name).downloads(split)
        if find_files(name, split, root) is not None:  # on disk already, maybe in another root or layout
            found = [Outcome(name, r, file_state(r, download_root(root)).replace("missing", "elsewhere"))
                     for r in remotes]
        elif offline:
            found = [Outcome(name, r, "failed", error="not tried: a server could not be reached (offline?)",
                             unreachable=True) for r in remotes]
        else:
            found = fetch_split(name, split, root, mirror=mirror, progress=progress, timeout=timeout, strict=False)
            failures = [o.error for o in found if o.unreachable]
            offline = failures[0] if failures and stop_when_offline else offline
        for o in found:
            if o.remote.path not in seen:
                seen.add(o.remote.path)
                outcomes.append(o)
    return outcomes


def summary(outcomes: Sequence[Outcome]) -> str:
    """One line per status, with counts and bytes, then each failure and each unverified file."""
    lines = []
    for status, verb in (("fetched", "downloaded"), ("present", "already present and verified"),
                         ("elsewhere", "not needed: the split is on disk in another data root or layout"),
                         ("unverified", "present but NOT the official file (kept, read as unverified)"),
                         ("refused", "refused: md5 not the official one, nothing kept"), ("failed", "failed")):
        these = [o for o in outcomes if o.status == status]
        if these:
            size = f", {human_size(sum(o.bytes for o in these))}" if status == "fetched" else ""
            lines.append(f"{len(these)} file(s) {verb}{size}")
            if status in ("unverified", "refused", "failed"):
                lines += [f"  {o.remote.path}: {o.error or 'md5 differs from ' + o.remote.md5}" for o in these]
    return "\n".join(lines) or "nothing to do"
