"""The lab's apt proxy forwards only to this machine's apt sources, on loopback in this test."""

import asyncio
import http.server
import threading

import pytest

from ccops.lab.apt_proxy import Proxy


@pytest.fixture
def upstream():
    class Archive(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"archive saw {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Archive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


async def _ask(allowed: set[tuple[str, int]], request: bytes) -> bytes:
    server = await asyncio.start_server(Proxy(allowed).handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
    return answer


def test_a_get_to_an_allowed_source_is_forwarded_with_an_origin_form_path(upstream):
    request = f"GET http://127.0.0.1:{upstream}/debian/dists/x HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode()
    answer = asyncio.run(_ask({("127.0.0.1", upstream)}, request))
    assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"archive saw /debian/dists/x")


def test_any_other_destination_or_method_is_refused_and_nothing_is_contacted(upstream):
    to_other = f"GET http://127.0.0.2:{upstream}/ HTTP/1.0\r\n\r\n".encode()
    assert b" 403 " in asyncio.run(_ask({("127.0.0.1", upstream)}, to_other))
    tunnel = f"CONNECT 127.0.0.1:{upstream} HTTP/1.1\r\n\r\n".encode()
    assert b" 403 " in asyncio.run(_ask({("127.0.0.1", 443)}, tunnel))
    post = f"POST http://127.0.0.1:{upstream}/ HTTP/1.0\r\n\r\n".encode()
    assert b" 405 " in asyncio.run(_ask({("127.0.0.1", upstream)}, post))
