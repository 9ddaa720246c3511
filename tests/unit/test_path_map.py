"""Remote path mappings (issue 16): parsing, longest prefix first, both directions."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamcrawler.domain.path_map import PathMap, parse_path_map

MAP = parse_path_map("/downloads=/mnt/media/downloads; /downloads/audio=/mnt/fast/audio;"
                     "/data=/srv/data/")


@pytest.mark.parametrize(("remote", "local"), [
    ("/downloads/Book", "/mnt/media/downloads/Book"),
    ("/downloads", "/mnt/media/downloads"),
    ("/downloads/", "/mnt/media/downloads"),
    ("/downloads/audio/Book/01.mp3", "/mnt/fast/audio/Book/01.mp3"),  # longest prefix wins
    ("/downloads2/Book", "/downloads2/Book"),  # whole components only
    ("/data//x", "/srv/data/x"),
    ("/elsewhere/x", "/elsewhere/x"),  # unmapped: unchanged
])
def test_remote_to_local(remote, local):
    assert MAP.to_local(remote) == local


@pytest.mark.parametrize(("local", "remote"), [
    ("/mnt/media/downloads/Book", "/downloads/Book"),
    ("/mnt/fast/audio/x", "/downloads/audio/x"),
    ("/srv/data", "/data"),
    ("/srv/database", "/srv/database"),
])
def test_local_to_remote(local, remote):
    assert MAP.to_remote(local) == remote


def test_root_prefixes_and_empty_map():
    assert parse_path_map("/=/mnt/root").to_local("/a/b") == "/mnt/root/a/b"
    assert parse_path_map("/=/mnt/root").to_remote("/mnt/root") == "/"
    assert parse_path_map("/c=/").to_local("/c/x") == "/x"
    assert not parse_path_map("") and parse_path_map(" ; ") == PathMap()
    assert PathMap().to_local("/x/y") == "/x/y"
    assert PathMap().to_remote_or_none(None) is None


@pytest.mark.parametrize(("text", "says"), [
    ("/downloads", "not one remote=local pair"),
    ("/a=/b=/c", "not one remote=local pair"),
    ("downloads=/mnt/d", "remote path 'downloads' is not an absolute path"),
    ("/downloads=", "local path '(empty)' is not an absolute path"),
    ("/d=/mnt/../etc", "must not contain . or .."),
    ("/d=/mnt/a;/d/=/mnt/b", "/d is mapped twice"),
    ("/a=/mnt/x;/b=/mnt/x", "ambiguous"),
])
def test_bad_maps_say_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_path_map(text)


names = st.text(st.characters(whitelist_categories=("Ll", "Nd"), whitelist_characters="-_ ."),
                min_size=1, max_size=8).filter(lambda s: s not in (".", "..") and s == s.strip())
rests = st.lists(names, max_size=4).map(lambda parts: "".join("/" + p for p in parts))


@st.composite
def disjoint_maps(draw):
    """Maps whose remote prefixes lie under distinct top folders, locals likewise."""
    count = draw(st.integers(1, 4))
    tops = draw(st.lists(names, min_size=2 * count, max_size=2 * count, unique=True))
    pairs = [(f"/{tops[i]}{draw(rests)}", f"/{tops[count + i]}{draw(rests)}")
             for i in range(count)]
    return pairs, parse_path_map(";".join(f"{r}={loc}" for r, loc in pairs))


@settings(max_examples=200, deadline=None)
@given(disjoint_maps(), st.data())
def test_round_trip_both_ways(drawn, data):
    pairs, mapping = drawn
    remote, local = data.draw(st.sampled_from(pairs))
    rest = data.draw(rests)
    assert mapping.to_local(remote + rest) == local + rest
    assert mapping.to_remote(mapping.to_local(remote + rest)) == remote + rest
    assert mapping.to_local(mapping.to_remote(local + rest)) == local + rest
    assert parse_path_map(mapping.describe()) == mapping


@settings(max_examples=200, deadline=None)
@given(disjoint_maps(), rests)
def test_longest_prefix_wins_over_a_shorter_one(drawn, rest):
    pairs, _ = drawn
    remote, local = pairs[0]
    nested = parse_path_map(f"{remote}={local};{remote}/deeper=/elsewhere")
    assert nested.to_local(f"{remote}/deeper{rest}") == f"/elsewhere{rest}"
    assert nested.to_local(f"{remote}{rest}").startswith(local) or rest.startswith("/deeper")


def test_the_import_summary_says_hard_linked_or_copied():
    from mamcrawler.services.download_watch import filed_how

    assert filed_how(2, 0) == "2 files hard-linked"
    assert filed_how(0, 2).startswith("2 files copied, not hard-linked: the download is on "
                                      "another file system")
    assert filed_how(1, 1) == "1 file hard-linked, 1 copied"
