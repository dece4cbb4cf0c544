"""The websocket probe (/ws/probe/): pong for a ping, one error frame for anything else."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings

from deliberation import consumers
from deliberation.asgi import application
from tests import factories, live_properties
from tests.clock import ManualClock

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 3


@pytest.fixture
def alice_cookie(alice) -> bytes:
    return factories.session_cookie_of(alice).encode()


async def open_probe(cookie: bytes) -> WebsocketCommunicator:
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]
    ws = WebsocketCommunicator(application, "/ws/probe/", headers=[*headers, (b"cookie", cookie)])
    connected, code = await ws.connect(timeout=TIMEOUT)
    assert connected, code
    return ws


BAD_FRAMES = {
    "binary": ({"bytes_data": b"\x00\x01"}, "invalid", None),
    "not JSON": ({"text_data": "{"}, "invalid", None),
    "1,000 nested arrays": ({"text_data": "[" * 1_000 + "]" * 1_000}, "invalid", None),
    "30,000 nested arrays": ({"text_data": "[" * 30_000 + "]" * 30_000}, "invalid", None),
    "not an object": ({"text_data": "[]"}, "invalid", None),
    "over 64 KiB": ({"text_data": "x" * 70_000}, "too_long", None),
    "an unknown type": ({"text_data": '{"type": "pong", "id": "u"}'}, "invalid", "u"),
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_a_bad_frame_gets_one_error_and_the_probe_stays_open(name, alice_cookie):
    frame, code, ref = BAD_FRAMES[name]
    ws = await open_probe(alice_cookie)
    await ws.send_to(**frame)
    error = await ws.receive_json_from(timeout=TIMEOUT)
    assert (error["type"], error["code"], error["ref"]) == ("error", code, ref)
    assert error["message"]
    await ws.send_json_to({"type": "ping", "id": 1})
    assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong", "ref": 1}
    await ws.disconnect()


async def test_a_flood_on_the_probe_passes_exactly_the_burst(alice_cookie, monkeypatch):
    monkeypatch.setattr(consumers.EchoProbeConsumer, "clock", ManualClock())
    ws = await open_probe(alice_cookie)
    for _ in range(consumers.RATE_BURST + 2):
        await ws.send_json_to({"type": "ping"})
    frames = [await ws.receive_json_from(timeout=TIMEOUT) for _ in range(consumers.RATE_BURST + 2)]
    assert frames[: consumers.RATE_BURST] == [{"type": "pong"}] * consumers.RATE_BURST
    assert [f["code"] for f in frames[consumers.RATE_BURST :]] == ["rate_limited"] * 2
    await ws.disconnect()


# --- properties (hypothesis; budget and seed: tests/conftest.py) --------------------------------

PROBE_TYPES = ["ping"]
PROBE_BAD = live_properties.common_bad_frames(PROBE_TYPES)
FIXTURES_SHARED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
async def probe(alice_cookie, monkeypatch):
    """One probe socket for all examples of a property, with a clock the test moves."""
    clock = ManualClock()
    monkeypatch.setattr(consumers.EchoProbeConsumer, "clock", clock)
    ws = await open_probe(alice_cookie)
    yield ws, clock
    await ws.disconnect()


@FIXTURES_SHARED
@given(frame=PROBE_BAD)
async def test_property_every_bad_frame_gets_one_error_and_the_probe_stays(probe, frame):
    ws, clock = probe
    clock.advance(3_600)
    await live_properties.check_bad_frame(ws, frame, "end")


@settings(FIXTURES_SHARED, max_examples=20)
@given(
    frames=live_properties.floods(
        live_properties.common_bad_frames(PROBE_TYPES, large=False), consumers.RATE_BURST
    )
)
async def test_property_a_flood_on_the_probe_passes_exactly_the_burst(probe, frames):
    ws, clock = probe
    await live_properties.check_flood_then_recovery(ws, clock, frames, consumers.RATE_BURST)


def test_the_hard_cap_on_a_frame_is_daphnes_one_mib_far_above_the_protocol_limit(settings):
    """docs/PROTOCOL.md, "Limits": frames up to 1 MiB get ``too_long`` from the consumer; daphne
    drops larger ones itself. A daphne that changed its default would change the document."""
    from daphne.cli import CommandLineInterface

    args = CommandLineInterface().parser.parse_args(["deliberation.asgi:application"])
    assert args.websocket_max_message_size == args.websocket_max_frame_size == 1024 * 1024
    # Far above ours, so that the band between the two limits (where the answer is too_long) is
    # wide: an oversized post of a member is answered, only a deliberate flood is dropped.
    assert args.websocket_max_message_size >= 4 * settings.WS_MAX_FRAME_BYTES
