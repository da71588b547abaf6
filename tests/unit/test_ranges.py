import pytest

from ccops.inventory.ranges import RangeError, compress, count, expand


def test_expand_keeps_zero_padding():
    assert expand("nj-a-t[0001:0003]") == ["nj-a-t0001", "nj-a-t0002", "nj-a-t0003"]


def test_expand_without_padding_and_suffix():
    assert expand("db[9:11].lan") == ["db9.lan", "db10.lan", "db11.lan"]


def test_two_ranges_multiply():
    assert expand("r[1:2]-h[1:2]") == ["r1-h1", "r1-h2", "r2-h1", "r2-h2"]
    assert count("r[1:2]-h[1:3]") == 6


def test_backwards_or_broken_ranges_are_refused():
    with pytest.raises(RangeError):
        expand("t[10:01]")
    with pytest.raises(RangeError):
        expand("t[01-10]")


def test_compress_is_the_inverse_of_expand():
    names = [*expand("sha-t[0001:0120]"), "sha-db01", *expand("sha-t[0200:0210]")]
    assert compress(names) == ["sha-db01", "sha-t[0001:0120]", "sha-t[0200:0210]"]
    assert sorted(n for p in compress(names) for n in expand(p)) == sorted(names)
