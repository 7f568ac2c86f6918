"""``python -m lib.data fetch [NAME[:SPLIT] ...] [--chapter N|all] [--profile P] [--root DIR]``.

Downloads datasets from their official sources (or ``$GG_DATA_MIRROR``) into the data root, checksum-verified and
atomically, skipping files already present; ends with a summary. Without names or ``--chapter``: what every chapter
needs at ``--profile`` (default ``book``). ``NAME`` alone fetches all of the dataset's splits.
"""

from __future__ import annotations

import argparse
import sys

from lib.data.fetch import fetch, human_size, mirror_url, source_url, summary
from lib.data.needs import CHAPTER_NEEDS, Need, chapter_needs
from lib.data.registry import SPECS, get_spec
from lib.data.root import download_root


def parse_needs(names: list[str], chapter: str | None, profile: str) -> list[Need]:
    """The (dataset, split) pairs named on the command line; ``ValueError``/``KeyError`` name a bad one."""
    needs: list[Need] = []
    for item in names:
        name, _, split = item.partition(":")
        spec = get_spec(name)
        if spec.downloads is None:
            raise ValueError(f"dataset {name!r} ({spec.kind}) has nothing to download; downloadable: "
                             f"{', '.join(n for n, s in SPECS.items() if s.downloads)}")
        if split and split not in spec.splits:
            raise ValueError(f"dataset {name!r} has splits {list(spec.splits)}, not {split!r}")
        needs += [(name, s) for s in ([split] if split else spec.splits) if (name, s) not in needs]
    if chapter is not None or not names:
        if chapter in (None, "all"):
            numbers = sorted(CHAPTER_NEEDS)
        elif chapter.isdigit() and int(chapter) in CHAPTER_NEEDS:
            numbers = [int(chapter)]
        else:
            raise ValueError(f"--chapter {chapter!r}: use a chapter number {sorted(CHAPTER_NEEDS)} or 'all'")
        needs += [n for n in chapter_needs(numbers, profile) if n not in needs]
    return needs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.data", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="download datasets into the data root")
    f.add_argument("names", nargs="*", metavar="NAME[:SPLIT]", help="datasets (all of their splits, or one)")
    f.add_argument("--chapter", help="what chapter N (or 'all') needs at --profile")
    f.add_argument("--profile", default="book", help="smoke, book or paper (default: book)")
    f.add_argument("--root", help="the data root to fill (default: $GG_DATA_ROOT, else the user cache)")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    try:
        needs = parse_needs(args.names, args.chapter, args.profile)
    except (KeyError, ValueError) as err:
        print(f"error: {err.args[0]}", file=sys.stderr)
        return 2
    mirror = mirror_url()
    print(f"data root {download_root(args.root)}; source {'mirror ' + mirror if mirror else 'official URLs'}; "
          f"{len(needs)} dataset split(s): {', '.join(f'{n}:{s}' for n, s in needs)}", flush=True)
    outcomes = fetch(needs, args.root, mirror=mirror, progress=not args.quiet, stop_when_offline=True)
    for o in outcomes:
        if o.status == "fetched":
            print(f"  fetched {o.remote.path} ({human_size(o.bytes)}) from {source_url(o.remote, mirror)}")
    print(summary(outcomes))
    return 1 if any(o.status in ("refused", "failed") for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
