"""Whether an SSH server answers on an address: a quiet probe that leaves no error in the host's journal.

Used wherever ccops waits for a host's sshd: a freshly imaged machine (image/imaging.py) and the lab's hosts.
"""

from __future__ import annotations

import socket
import struct

# what the probe says it is, and how it leaves: a client that closes before sending its
# identification makes sshd log "kex_exchange_identification" errors in the host's journal
PROBE_IDENT = b"SSH-2.0-ccops_lab_probe\r\n"
SSH_MSG_DISCONNECT = 1
SSH_DISCONNECT_BY_APPLICATION = 11


def disconnect_packet(reason: str = "ccops lab probe done") -> bytes:
    """An SSH_MSG_DISCONNECT in the clear (RFC 4253 6 and 11.1), as allowed before key exchange."""
    text = reason.encode()
    payload = (
        struct.pack(">BI", SSH_MSG_DISCONNECT, SSH_DISCONNECT_BY_APPLICATION)
        + struct.pack(">I", len(text))
        + text
        + struct.pack(">I", 0)
    )
    padding = 8 - (5 + len(payload)) % 8
    if padding < 4:
        padding += 8
    return struct.pack(">IB", 1 + len(payload) + padding, padding) + payload + bytes(padding)


def sshd_answers(address: str, port: int = 22, timeout: float = 2.0) -> bool:
    """True when an SSH server answers on address:port.

    The probe identifies itself and disconnects "by application", which sshd
    logs at info level only, then waits for sshd to close first.
    """
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            if not _read_line(conn).startswith(b"SSH-"):
                return False
            conn.sendall(PROBE_IDENT + disconnect_packet())
            conn.shutdown(socket.SHUT_WR)
            try:
                while conn.recv(4096):
                    pass  # sshd's key exchange offer, then its end of the connection
            except OSError:
                pass  # the answer already came; how the server closes is its business
            return True
    except OSError:
        return False


def _read_line(conn: socket.socket, limit: int = 255) -> bytes:
    line = b""
    while not line.endswith(b"\n") and len(line) < limit:
        chunk = conn.recv(1)
        if not chunk:
            break
        line += chunk
    return line
