"""Vulnerabilities per host and CVE, from real Debian sources without per-host internet.

The changelogs of the updating packages a site's content snapshot fetched name, per
version, the CVEs it fixes and the release's urgency (changelog, deb); each host's
installed versions (its newest asset record) place it before or after each fix
(classify); an imported security tracker export adds "no fix yet" and "not affected"
(tracker). Changelogs and exports are untrusted input: bounded, parsed strictly, and
what does not fit is recorded as damaged, never a crash.
"""
