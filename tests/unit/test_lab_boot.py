"""Judging a lab host's boot, and the sshd probe's manners, against a real loopback socket."""

import socket
import struct
import threading

from ccops.lab.boot import BootState, BootWatch, parse_look
from ccops.runner.sshprobe import PROBE_IDENT, disconnect_packet, sshd_answers

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA host"
BOOTED = BootState("running", (), KEY, True)


def _starting(*jobs: str, sshd: bool = False) -> BootState:
    return BootState("starting", jobs, "", sshd)


def test_parse_look_reads_state_jobs_and_key():
    out = "starting\n--\n3  basic.target start waiting\n71 ssh.service start waiting\n--\n"
    state = parse_look(out, sshd=False)
    assert state == BootState("starting", ("3  basic.target start waiting", "71 ssh.service start waiting"), "", False)
    assert not state.up
    assert parse_look(f"degraded\n--\n--\n{KEY}\n", sshd=True).up
    assert parse_look("", sshd=False) == BootState("", (), "", False)  # exec failed: nothing known


def test_a_finished_boot_needs_systemd_done_a_host_key_and_sshd():
    assert BOOTED.up
    assert not BootState("running", (), KEY, False).up
    assert not BootState("running", (), "", True).up
    assert not BootState("starting", (), KEY, True).up


def test_a_boot_that_keeps_changing_is_not_stalled_until_the_deadline():
    watch = BootWatch(0.0, stall_seconds=40, deadline=180)
    for second in range(0, 180, 10):
        assert watch.stalled(_starting(f"job {second}"), float(second)) is None
    why = watch.stalled(_starting("job 180"), 180.0)
    assert why is not None and why.startswith("boot not finished after 180s")


def test_a_boot_with_the_same_jobs_queued_stalls_after_the_window():
    watch = BootWatch(0.0, stall_seconds=40, deadline=180)
    jobs = ("3 basic.target start waiting", "71 ssh.service start waiting")
    assert watch.stalled(_starting(*jobs), 0.0) is None
    assert watch.stalled(_starting(*jobs), 39.0) is None
    assert watch.stalled(_starting(*jobs), 40.0) == (
        "boot stalled: no progress for 40s (systemd starting, 2 job(s) queued, sshd not answering)"
    )


def test_progress_restarts_the_stall_window():
    watch = BootWatch(0.0, stall_seconds=40, deadline=180)
    watch.stalled(_starting("a"), 0.0)
    assert watch.stalled(_starting("a", sshd=True), 30.0) is None  # sshd came up: progress
    assert watch.stalled(_starting("a", sshd=True), 69.0) is None
    assert watch.stalled(_starting("a", sshd=True), 70.0) is not None


def test_the_disconnect_packet_is_a_well_formed_ssh_binary_packet():
    packet = disconnect_packet("bye")
    length, padding = struct.unpack(">IB", packet[:5])
    assert len(packet) == 4 + length and len(packet) % 8 == 0 and padding >= 4
    payload = packet[5 : 4 + length - padding]
    assert payload[0] == 1  # SSH_MSG_DISCONNECT
    assert struct.unpack(">I", payload[1:5])[0] == 11  # SSH_DISCONNECT_BY_APPLICATION
    assert payload[5:] == struct.pack(">I", 3) + b"bye" + struct.pack(">I", 0)


def _server(banner: bytes, received: list[bytes]) -> tuple[socket.socket, threading.Thread]:
    """A loopback server that sends a banner, then records all the client sends until it closes."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(banner)
            data = b""
            while chunk := conn.recv(4096):
                data += chunk
            received.append(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_the_probe_identifies_itself_and_disconnects_by_application():
    received: list[bytes] = []
    listener, thread = _server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", received)
    with listener:
        assert sshd_answers("127.0.0.1", listener.getsockname()[1])
        thread.join(5)
    # the client closed its side first, after identifying itself and saying goodbye
    assert received == [PROBE_IDENT + disconnect_packet()]


def test_the_probe_says_no_to_a_server_that_is_not_ssh_or_not_there():
    received: list[bytes] = []
    listener, thread = _server(b"HTTP/1.1 400 Bad Request\r\n", received)
    with listener:
        assert not sshd_answers("127.0.0.1", listener.getsockname()[1])
        thread.join(5)
    assert received == [b""]  # nothing sent to a server that is not sshd
    with socket.create_server(("127.0.0.1", 0)) as free:
        port = free.getsockname()[1]
    assert not sshd_answers("127.0.0.1", port, timeout=1)
