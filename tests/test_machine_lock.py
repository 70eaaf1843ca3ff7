"""The machine lock: exclusive tests (load, latency and timing verdicts) have the machine to
themselves; other slow tests (servers, CLI runs) share it with each other, never with those."""

from __future__ import annotations

import fcntl

import pytest

from tests.conftest import machine_lock


def _try(tmp_path_factory: pytest.TempPathFactory, mode: int) -> None:
    """Take the lock in `mode` without waiting (BlockingIOError if someone holds it)."""
    with machine_lock(tmp_path_factory).open("a") as other:
        fcntl.flock(other, mode | fcntl.LOCK_NB)


@pytest.mark.usefixtures("machine_to_itself")
def test_the_lock_is_held_for_the_whole_test(tmp_path_factory: pytest.TempPathFactory) -> None:
    with pytest.raises(BlockingIOError):
        _try(tmp_path_factory, fcntl.LOCK_EX)


@pytest.mark.slow
@pytest.mark.exclusive
def test_an_exclusive_test_shares_the_machine_with_no_slow_test(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with pytest.raises(BlockingIOError):
        _try(tmp_path_factory, fcntl.LOCK_SH)


@pytest.mark.slow
def test_a_slow_test_shares_the_lock_with_slow_tests_but_not_exclusive_ones(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _try(tmp_path_factory, fcntl.LOCK_SH)
    with pytest.raises(BlockingIOError):
        _try(tmp_path_factory, fcntl.LOCK_EX)


def test_a_fast_test_does_not_wait_for_it(request: pytest.FixtureRequest) -> None:
    assert "machine_to_itself" not in request.fixturenames
    assert "machine_shared" not in request.fixturenames
