"""A fleet's JSON listing is written a host at a time: memory does not grow with the document."""

from __future__ import annotations

from ccops.cli.output import _Writer, envelope, indented_json
from ccops.inventory.layered import layered
from ccops.text import strict_json

SITE = {"ccops_site": "par", "windows": [{"days": ["mon"], "start": "01:00"}], "point": "10.0.0.1"}
CONNECTION = {"ansible_connection": "ssh", "ansible_user": "ccops"}


def _listing(hosts: int) -> dict[str, object]:
    hostvars = {
        f"h{i:05}": layered(
            SITE, {"ccops_role": "agent", "ansible_host": f"10.1.{i // 250}.{i % 250}"}, CONNECTION, own=1
        )
        for i in range(hosts)
    }
    return {
        "_meta": {"hostvars": hostvars},
        "all": {"children": ["ungrouped", "site_par"]},
        "site_par": {"hosts": list(hostvars)},
    }


def test_the_host_table_under_a_small_wrapper_is_written_in_pieces():
    document = envelope(_listing(2000), "inventory-list")
    pieces = list(_Writer().pieces(document, 0))
    # {"_meta": {"hostvars": {2,000 hosts}}}: each host its own piece, never the whole table as one text
    assert max(len(p) for p in pieces if "ansible_host" in p) < 1000
    assert "".join(pieces) == strict_json.dumps(document)


def test_a_hosts_own_layer_is_not_kept_for_the_next_host():
    writer = _Writer()
    text = "".join(writer.pieces(_listing(500), 0))
    assert text == strict_json.dumps(_listing(500))
    # the site's and connection's text is kept once; no host's own variables are
    assert len(writer.seen) < 10


def test_keys_of_mixed_types_still_name_as_strict_json_does():
    data = {"hosts": {f"h{i}": {"a": 1, 2: "x", True: "t"} if i % 2 else {"a": 1, "b": 2} for i in range(300)}}
    assert indented_json(data) == strict_json.dumps(data)
