"""The machine lock: slow tests (servers, stacks, load, latency verdicts) take turns."""

from __future__ import annotations

import fcntl

import pytest

from tests.conftest import machine_lock


@pytest.mark.usefixtures("machine_to_itself")
def test_the_lock_is_held_for_the_whole_test(tmp_path_factory: pytest.TempPathFactory) -> None:
    with machine_lock(tmp_path_factory).open("a") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


@pytest.mark.slow
def test_a_slow_test_holds_the_lock_without_asking(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with machine_lock(tmp_path_factory).open("a") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_a_fast_test_does_not_wait_for_it(request: pytest.FixtureRequest) -> None:
    assert "machine_to_itself" not in request.fixturenames
