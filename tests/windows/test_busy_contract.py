"""Contract test: the site's seat service answers {"busy": "no"} for one seat and
{"busy": "maybe"} for another (a loopback HTTP server here). The first is patched; the
second is left alone and reported refused with the answer; neither fails the run."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from tests.windows.harness import run_contract, seat_state

ANSWERS = {"free": {"busy": "no"}, "unclear": {"busy": "maybe"}}


class _SeatService(BaseHTTPRequestHandler):
    def do_GET(self):
        seat = parse_qs(urlparse(self.path).query).get("seat", [""])[0]
        body = json.dumps(ANSWERS.get(seat, {})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def busy_runs(tmp_path_factory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SeatService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/busy"
        seats = {name: (seat_state(), {"ccops_busy_check": {"url": url}}) for name in ANSWERS}
        yield run_contract(tmp_path_factory.mktemp("windows-busy"), "patch.yml", "patch", seats)
    finally:
        server.shutdown()
        server.server_close()


def test_a_seat_the_service_calls_not_busy_in_words_is_patched(busy_runs):
    run = busy_runs["free"]
    assert run.outcome() == "ok", run.failure()
    assert run.report()["outcome"] == "patched"


def test_an_answer_that_is_not_understood_leaves_the_seat_alone_without_failing(busy_runs):
    run = busy_runs["unclear"]
    assert run.outcome() == "ok", run.failure()
    assert run.report() == {
        "outcome": "refused",
        "reason": "seat busy: the seat service's answer is not understood ('maybe')",
    }
    assert "backup.archive" not in run.ops() and "win_updates.install" not in run.ops()
