"""The machine lock that keeps load tests and latency verdicts from overlapping."""

from __future__ import annotations

import fcntl

import pytest

from tests.conftest import machine_lock


@pytest.mark.usefixtures("machine_to_itself")
def test_the_lock_is_held_for_the_whole_test(tmp_path_factory: pytest.TempPathFactory) -> None:
    with machine_lock(tmp_path_factory).open("a") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
