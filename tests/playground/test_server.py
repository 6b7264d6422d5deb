"""The playground server, for real: uvicorn on 127.0.0.1 and the ``websockets`` client."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

pytest.importorskip("websockets")
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import InvalidStatus  # noqa: E402

SMALL = {"data": {"dataset": "spirals", "classes": 3, "points": 150},
         "network": {"hidden": [8, 8]}, "training": {"lr": 0.01}}


async def next_of(ws, kind: str, timeout: float = 10.0) -> dict:
    """The next message of type ``kind`` (others are skipped)."""
    async def wait():
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return message
    return await asyncio.wait_for(wait(), timeout)


async def open_session(server, start: bool = True):
    # max_queue=None: a test that reads only now and then must not stall the server (a page reads always)
    ws = await connect(server.ws_url, origin=server.origin, max_size=2**24, max_queue=None)
    greeting = [json.loads(await ws.recv())["type"] for _ in range(4)]
    assert greeting == ["hello", "state", "points", "frame"]
    await ws.send(json.dumps({"type": "configure", "config": SMALL}))
    replies = [json.loads(await ws.recv())["type"] for _ in range(3)]
    assert replies == ["state", "points", "frame"]
    if start:
        await ws.send(json.dumps({"type": "start"}))
        state = await next_of(ws, "state")
        assert state["running"] is True
    return ws


async def latest_step(ws, timeout: float = 10.0) -> int:
    return (await next_of(ws, "frame", timeout))["step"]


async def still_training(ws) -> None:
    before = await latest_step(ws)
    await asyncio.sleep(0.2)
    after = await latest_step(ws)
    for _ in range(20):  # frames already queued may be older: read until a later one
        if after > before:
            break
        after = await latest_step(ws)
    assert after > before


def run(coro):
    return asyncio.run(coro)


def test_get_page_and_static(playground_server):
    with urllib.request.urlopen(playground_server.url, timeout=10) as response:
        assert response.status == 200
        assert "<" in response.read().decode("utf-8")


@pytest.mark.parametrize("bad, field", [
    ("{not json", None),
    (json.dumps({"type": "fly"}), "type"),
    (json.dumps({"type": "set", "values": {"lr": 50}}), "values.lr"),
    (json.dumps({"type": "configure", "config": {"network": {"hidden": [8, 99]}}}), "config.network.hidden[1]"),
    (json.dumps({"type": "add_point", "x": [7, 0], "label": 0}), "x[0]"),
    (json.dumps({"type": "load_csv", "text": "x" * 300_000}), None),
])
def test_bad_messages_get_an_error_and_training_goes_on(playground_server, bad, field):
    async def scenario():
        ws = await open_session(playground_server)
        try:
            await ws.send(bad)
            error = await next_of(ws, "error")
            assert error["message"]
            assert error["field"] == field
            await still_training(ws)
        finally:
            await ws.close()
    run(scenario())


def test_another_origin_is_refused(playground_server):
    async def scenario():
        with pytest.raises(InvalidStatus) as info:
            async with connect(playground_server.ws_url, origin="http://evil.example"):
                pass
        assert info.value.response.status_code == 403
        with pytest.raises(InvalidStatus):
            async with connect(playground_server.ws_url):  # no Origin at all
                pass
    run(scenario())


def test_two_sessions_train_independently(playground_server):
    async def scenario():
        a = await open_session(playground_server)
        b = await open_session(playground_server, start=False)
        try:
            await b.send(json.dumps({"type": "step"}))
            assert (await next_of(b, "frame"))["step"] == 1
            await still_training(a)
            await b.send(json.dumps({"type": "step"}))
            assert (await next_of(b, "frame"))["step"] == 2  # a's training did not move b
            await b.close()
            await asyncio.sleep(0.2)
            await still_training(a)
        finally:
            await a.close()
    run(scenario())


def test_pause_step_set_and_save(playground_server):
    async def scenario():
        ws = await open_session(playground_server)
        try:
            await ws.send(json.dumps({"type": "set", "values": {"lr": 0.05}}))
            state = await next_of(ws, "state")
            assert state["config"]["training"]["lr"] == 0.05 and state["step"] > 0
            await ws.send(json.dumps({"type": "pause"}))
            paused = (await next_of(ws, "state"))["step"]
            await ws.send(json.dumps({"type": "step"}))
            frame = await next_of(ws, "frame")
            while frame["step"] != paused + 1 and frame["step"] <= paused:
                frame = await next_of(ws, "frame")
            assert frame["step"] == paused + 1
            assert frame["regions"]["size"] == 64 and frame["curvature"]["bound"] == pytest.approx(40.0)
            await ws.send(json.dumps({"type": "save_run", "name": "from-socket"}))
            saved = await next_of(ws, "saved", timeout=30)
            assert saved["path"].endswith("from-socket")
        finally:
            await ws.close()
    run(scenario())
