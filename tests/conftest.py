"""Shared test helpers. ``tests/`` is on sys.path (rootdir conftest), so reference modules import directly."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
