"""Shared test helpers. ``tests/`` is on sys.path (rootdir conftest), so reference modules import directly."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from hypothesis import settings  # noqa: E402  (after the sys.path line on purpose: nothing below needs it)

# CI replays the same examples every run (derandomize): a red CI then means a change, not a new draw. Developers who
# want hypothesis to search afresh run with HYPOTHESIS_PROFILE=explore (more examples, random draws).
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", max_examples=1000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
