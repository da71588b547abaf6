"""ccops remediate: fix chosen CVEs with a content snapshot of just their fixing packages, proven by re-inspection.

targets picks (host, CVE, package, fixing version) from the vulns view; subset builds the snapshot
from the parent snapshot's own verified files (no second download); approval applies the operator's
or the site's rule; verdict judges each host and CVE from the post-run inspection alone; run
orchestrates: stage, approve, the patch verb in waves, inspect, verdict.
"""
