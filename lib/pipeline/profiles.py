"""Profiles (smoke / book / paper): the scales at which every chapter runs, and their resolution."""

from __future__ import annotations

from types import SimpleNamespace

PROFILES = ("smoke", "book", "paper")
PROFILE_PURPOSE = {
    "smoke": "CI on 2 CPU cores, under 2 minutes a chapter: proves every code path runs; numbers are not meaningful",
    "book": "any CPU, under 15 minutes a chapter: every figure shows the paper's effect at reduced size",
    "paper": "one GPU, hours: the papers' scale (or as close as the data allows); results committed with provenance",
}


class ProfileError(ValueError):
    """An unknown profile or a profile table that does not cover every profile."""


def resolve_profile(profile: str, table: dict[str, dict], **overrides) -> SimpleNamespace:
    """The configuration of ``profile`` from a chapter's table ``{profile: {name: value}}``.

    Every profile of ``PROFILES`` must be in the table with the same keys. ``overrides`` whose value is not
    ``None`` replace entries (a notebook passes its parameters here, so ``-p n_test=500`` wins over the profile);
    an override that names no entry is an error.
    """
    if profile not in PROFILES:
        raise ProfileError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    missing = [p for p in PROFILES if p not in table]
    if missing:
        raise ProfileError(f"the profile table lacks {missing}; every chapter defines {list(PROFILES)}")
    keys = set(table[profile])
    for p in PROFILES:
        if set(table[p]) != keys:
            raise ProfileError(f"profile {p!r} has keys {sorted(table[p])}, expected {sorted(keys)}")
    unknown = [k for k in overrides if k not in keys]
    if unknown:
        raise ProfileError(f"overrides {unknown} are not settings of this chapter; settings: {sorted(keys)}")
    cfg = dict(table[profile])
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    return SimpleNamespace(profile=profile, **cfg)
