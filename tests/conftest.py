"""Shared fixtures for the tests."""

from __future__ import annotations

import pytest
from helpers import REFERENCE_PLAN


@pytest.fixture(scope="session")
def reference_plan():  # type: ignore[no-untyped-def]
    """The compiled reference plan of the counselling example."""
    from commission_engine import load_plan

    return load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"), str(REFERENCE_PLAN))
