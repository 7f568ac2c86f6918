"""The data page's table: download sizes from the specs, and what is on disk (a stand-in is not)."""

from __future__ import annotations

from lib.data import catalogue, registry


def test_catalogue_download_sizes_and_disk_state(empty_root, monkeypatch):
    monkeypatch.setenv(registry.STAND_IN_ENV, "1")
    rows = {r["name"]: r for r in catalogue()}
    assert rows["mnist"]["download"] == "11.6 MB"  # 9,912,422 + 28,881 + 1,648,877 + 4,542 bytes
    assert rows["pneumoniamnist"]["download"] == "~4.2 MB" and rows["digits"]["download"] == "—"
    assert rows["mnist"]["offline"] == "none" and rows["mnist"]["after download"] == "train, test"
    assert rows["digits"]["offline"] == "train, test, all"
