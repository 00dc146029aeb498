"""The incident timeline names the lawful-provision events in words (not their internal kinds)."""

from __future__ import annotations

from app.console.widgets.labels import timeline_text


def test_the_timeline_names_provision_events() -> None:
    over = timeline_text(
        "share.over_cap", {"agency": "Jinju 112", "chosen": 9, "cap": 2, "share_id": "shr_1"}
    )
    assert "Jinju 112" in over and "9" in over and "2" in over and "share.over_cap" not in over
    assert "waits" in timeline_text("share.requested", {"agency": "119", "minutes": 10})
    assert timeline_text("share.approved", {"agency": "119"}) == "Share with 119 approved"
    assert timeline_text("share.rejected", {"reason": "not needed"}) == "Share rejected: not needed"
    assert "30" in timeline_text("share.extension.requested", {"minutes": 30})
    assert timeline_text("something.else", {}) == "something.else"
