"""``python -m lib``: the book's command line (:mod:`lib.pipeline.cli`): list, run and build chapters."""

from lib.pipeline.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
