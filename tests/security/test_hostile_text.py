"""Hostile text reaches the stream as JSON that parses to the original, live and replayed.

CR/LF would end an SSE line or frame if it were written raw; U+0000 cannot live in a
PostgreSQL text column; U+2028 breaks naive JavaScript parsers. None may break framing.
"""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest

from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

HOSTILE = [
    "line one\r\nline two\rthree\nfour",
    "\r\n\r\ndata: forged\r\nid: 1\r\nevent: reset\r\n\r\n",
    "nul \x00 inside",
    "separators \u2028 and \u2029, bell \x07, escape \x1b[31m, delete \x7f",
    "<script>alert('x')</script> & \"quotes\"",
    "emoji 🎉, RTL \u202eevil, combining e\u0301, CJK 漢字",
]


async def test_hostile_push_text_round_trips_through_the_stream(services, herald_env):
    employee = "HOSTILE1"
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        people = [(employee, "Plain Name", "Hostile-Dept", "G3", date(2019, 1, 1))]
        assert (await import_employees(api, employees_csv(people))).status_code == 200
        auth = herald_env.bearer(employee, ["employee"])
        url = f"{services.notifier_url}/v1/stream"
        async with httpx.AsyncClient(timeout=None) as sse:
            live = await StreamRecorder(sse, url, {}, headers=auth).open()
            sent = []
            for text in HOSTILE:
                body = {
                    "title": text[:200],
                    "body": text,
                    "data": {"text": text, text: [text]},
                    "target": {"employee_ids": [employee]},
                }
                response = await api.post("/v1/notifications", json=body)
                assert response.status_code == 202, response.text
                sent.append(body)
            allocation = await api.post(
                "/v1/allocations",
                json={
                    "voucher": voucher(name="Bonus\r\n\x00\u2028 <b>"),
                    "criteria": {"departments": ["Hostile-Dept"]},
                },
            )
            assert allocation.status_code == 202, allocation.text
            assert (await wait_until_finished(api, allocation.json()["id"]))[
                "status"
            ] == "completed"
            frames = await live.wait_for(len(HOSTILE) + 1)
            await live.close()

            replayed = await StreamRecorder(
                sse, url, {}, headers={**auth, "Last-Event-ID": "0"}
            ).open()
            again = await replayed.wait_for(len(HOSTILE) + 1)
            await asyncio.sleep(0.3)
            await replayed.close()

    for stream in (frames, again):
        # Framing intact: exactly the expected events, each with its own id and type.
        assert len(stream) == len(HOSTILE) + 1
        assert len({f.id for f in stream}) == len(stream)
        # Separate pushes may be processed in any order; compare them by content.
        pushes = [f.json()["data"] for f in stream if f.event == "herald.notification.pushed"]
        received = sorted((p["title"], p["body"], repr(p["data"])) for p in pushes)
        assert received == sorted((b["title"], b["body"], repr(b["data"])) for b in sent)
        [voucher_frame] = [f for f in stream if f.event == "herald.voucher.allocated"]
        assert voucher_frame.json()["data"]["voucher"]["name"] == "Bonus\r\n\x00\u2028 <b>"
    assert [f.data for f in frames] == [f.data for f in again] or [f.json() for f in frames] == [
        f.json() for f in again
    ]

    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=auth
    ) as inbox:
        items = (await inbox.get("/v1/notifications", params={"limit": 50})).json()["items"]
    titles = [i["title"] for i in items if i["kind"] == "herald.notification.pushed"]
    assert sorted(titles) == sorted(b["title"] for b in sent)
