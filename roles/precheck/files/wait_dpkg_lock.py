#!/usr/bin/python3
"""Wait until no other process holds dpkg's frontend lock (a package run a lost
controller left behind may still be working), then exit 0; exit 1 after the timeout."""
import fcntl
import sys
import time

timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 300
deadline = time.monotonic() + timeout
with open("/var/lib/dpkg/lock-frontend", "w") as lock:
    while True:
        try:
            fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # dpkg and apt take this same fcntl lock
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"another package manager run still holds the dpkg lock after {timeout:.0f} s")
            time.sleep(2)
        else:
            fcntl.lockf(lock, fcntl.LOCK_UN)
            break
print("dpkg lock free")
