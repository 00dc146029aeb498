"""Media access checks run on threads of their own, not on the API's request threads (issue 17): with
every request thread blocked, a viewer is still authorised (or refused) at once."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.domain.enums import AgencyKind
from app.engine.media.routes import MediaDenied
from tests.engine.conftest import grid_cameras, request_body, start_engine


def test_a_viewer_is_authorised_while_every_request_thread_is_busy(tmp_path: Path) -> None:
    e = start_engine(tmp_path, request_threads=1)
    try:
        e.add_cameras(grid_cameras(n_side=4))
        police = e.add_agency("112", AgencyKind.POLICE)
        media = e.server.media
        loop = e.server.hub._loop
        assert media is not None and loop is not None
        release, holding = threading.Event(), threading.Event()

        def hold_writer() -> None:
            with e.server.uow.writing():
                holding.set()
                release.wait(30)

        group = e.server.uow.group
        assert group is not None
        with ThreadPoolExecutor(2) as pool:
            holder = pool.submit(hold_writer)
            holding.wait(10)
            # The one request thread now waits for the writer, inside its request.
            blocked = pool.submit(
                e.http.post, "/api/v1/requests", json=request_body("B-1"), headers=police.headers
            )
            end = time.monotonic() + 20
            while group._waiting < 1:
                assert time.monotonic() < end, "the request never reached the writer"
                time.sleep(0.005)
            # A viewer with an unknown token: the check reads the store on a media thread and refuses.
            fut = asyncio.run_coroutine_threadsafe(
                media.access.authorize("A" * 43, "CAM-0001", "127.0.0.1"), loop
            )
            with pytest.raises(MediaDenied) as refused:
                fut.result(timeout=10)  # answered while the request thread is still blocked
            assert refused.value.status == 401
            assert not blocked.done()
            release.set()
            holder.result(10)
            assert blocked.result(30).status_code == 201
    finally:
        e.close()
