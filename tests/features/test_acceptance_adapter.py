"""The acceptance adapter: JUnit XML with scenario properties -> summary.json checks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from assay.summary import Verdict
from features.adapter import summarize

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3">
 <testcase classname="steps.test_orders" name="test_replay" time="0.41">
  <properties>
   <property name="feature" value="orders/idempotency.feature"/>
   <property name="scenario" value="Replaying a checkout returns the same order"/>
   <property name="requirements" value="REQ-ORD-001 REQ-PAY-003"/>
  </properties>
 </testcase>
 <testcase classname="steps.test_security" name="test_tokens[expired]" time="0.2">
  <properties>
   <property name="feature" value="security/tokens.feature"/>
   <property name="scenario" value="Forged tokens are rejected"/>
   <property name="requirements" value="REQ-SEC-001"/>
  </properties>
  <skipped type="pytest.skip" message="needs ASSAY_JWT_SECRET">needs ASSAY_JWT_SECRET</skipped>
 </testcase>
 <testcase classname="steps.test_cart" name="test_add" time="1.0">
  <properties>
   <property name="feature" value="cart/cart.feature"/>
   <property name="scenario" value="Adding a product"/>
   <property name="requirements" value="REQ-CART-001"/>
  </properties>
  <failure message="Scenario: Adding a product">Scenario: Adding a product
  ✘ Then the response status is 201
      the response: expected HTTP 201, got PUT /cart/items/1 → 200</failure>
 </testcase>
</testsuite></testsuites>
"""


def test_each_scenario_becomes_a_check_linked_to_requirements_and_controls(tmp_path: Path) -> None:
    out = tmp_path / "acceptance"
    out.mkdir()
    (out / "junit.xml").write_text(JUNIT, encoding="utf-8")
    (out / "cucumber.json").write_text("[]")
    started = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

    summary = summarize(out, tmp_path, started, 12.345)

    assert summary.suite == "acceptance"
    assert summary.verdict is Verdict.FAIL
    assert summary.counts.model_dump() == {
        "passed": 1,
        "failed": 1,
        "skipped": 1,
        "errors": 0,
        "judged": 2,
    }
    assert summary.artifacts == ["acceptance/junit.xml", "acceptance/cucumber.json"]
    replay, expired, cart = summary.checks
    assert replay.id == "orders/idempotency.feature::Replaying a checkout returns the same order"
    assert replay.requirements == ["REQ-ORD-001", "REQ-PAY-003"]
    assert replay.controls == ["CC8.1", "PI1.3"]
    assert replay.evidence == ["acceptance/junit.xml", "acceptance/cucumber.json"]
    assert expired.id == "security/tokens.feature::Forged tokens are rejected[expired]"
    assert expired.verdict is Verdict.SKIPPED
    assert summary.notes == ["skipped: needs ASSAY_JWT_SECRET"]
    assert cart.message is not None
    assert "✘ Then the response status is 201" in cart.message
    assert summary.duration_s == 12.35
