"""Full garbage collections wait for a quiet moment instead of pausing the UI mid-action."""

from __future__ import annotations

import gc

from synergia_tui.ui import app as app_module
from tests.ui.conftest import settle


class FullCollections(list):
    """Counts full (generation 2) collections while it is in ``gc.callbacks``."""

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "stop" and info["generation"] == 2:
            self.append(info["collected"])


async def test_start_up_objects_are_frozen_and_full_collections_wait_for_quiet(make_app):
    before = gc.get_threshold()
    app = make_app()
    seen = FullCollections()
    gc.callbacks.append(seen)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold()[2] == app_module.FULL_GC_NEVER
            seen.clear()
            app.note_activity()
            app.collect_when_quiet()
            assert seen == []  # busy: no full pass now
            # As if the app had been quiet for longer than QUIET_GC_S.
            app._last_activity -= app_module.QUIET_GC_S + 1
            app._last_full_gc -= app_module.QUIET_GC_S + 1
            app.collect_when_quiet()
            assert len(seen) == 1
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == before
    finally:
        gc.callbacks.remove(seen)
