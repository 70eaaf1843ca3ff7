"""Actions refuse empty selectors and anything without a target; probes bound their traffic."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import ActivityFailed

from chaos import actions, probes


@pytest.fixture(autouse=True)
def _no_target(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ASSAY_STACK_FILE", "ASSAY_TARGET_URL"):
        monkeypatch.delenv(name, raising=False)


def test_destructive_actions_refuse_an_empty_selector() -> None:
    with pytest.raises(ActivityFailed, match="empty"):
        actions.kill_gateway("")
    with pytest.raises(ActivityFailed, match="empty"):
        actions.kill_worker(count=0)
    with pytest.raises(ActivityFailed, match="empty"):
        actions.set_flag("", True)
    with pytest.raises(ActivityFailed, match="fast or immediate"):
        actions.stop_postgres(mode="smart")


def test_activities_without_a_target_fail_readably() -> None:
    with pytest.raises(ActivityFailed, match="no target"):
        actions.kill_service()
    with pytest.raises(ActivityFailed, match="no target"):
        probes.service_ready()


def test_process_actions_need_the_stack(tmp_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_TARGET_URL", "http://127.0.0.1:9")
    with pytest.raises(ActivityFailed, match="needs the local provisioned stack"):
        actions.stop_redis()
    with pytest.raises(ActivityFailed, match="0-60 s"):
        actions.stress_cpu(duration_s=600)
