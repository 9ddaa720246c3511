"""Search paths: the tracker simulator and a Prowlarr fake, both over loopback HTTP."""

import pytest

from mamcrawler.adapters.prowlarr import ProwlarrAuthError, ProwlarrClient
from mamcrawler.adapters.prowlarr.client import parse_release
from mamcrawler.services.search import SearchRequest, search

KEY = "prowlarr-test-key"


def prowlarr_result(title, size, **extra):
    """A search result in the shape Prowlarr's /api/v1/search returns."""
    return {"guid": f"https://indexer.example/t/{abs(hash(title)) % 10**6}", "title": title,
            "size": size, "indexer": "OtherTracker", "indexerId": 7, "protocol": "torrent",
            "seeders": 4, "leechers": 1, "publishDate": "2025-03-01T10:00:00Z",
            "downloadUrl": "http://127.0.0.1:1/download/1", "categories": [{"id": 3030}],
            "downloadVolumeFactor": 1, "uploadVolumeFactor": 1, **extra}




@pytest.fixture
def book(tracker_sim):
    return tracker_sim.control.post("catalogue", title="The Glass Orchard",
                                    authors=["Mira Okafor"], filetype="m4b", free=True)


def prowlarr_client(httpserver):
    return ProwlarrClient(httpserver.url_for("").rstrip("/"), KEY)


def test_results_of_both_paths_are_merged_without_duplicates(mam, book, httpserver):
    request = SearchRequest("The Glass Orchard", "Mira Okafor")
    mam_only = search(request, mam, None).releases
    assert [r.title for r in mam_only] == ["The Glass Orchard"]
    size = mam_only[0].size_bytes
    httpserver.expect_request("/api/v1/search", headers={"X-Api-Key": KEY}).respond_with_json([
        prowlarr_result("The Glass Orchard", size),  # the same upload via Prowlarr
        prowlarr_result("The Glass Orchard [MP3 64kbps]", size * 3, downloadVolumeFactor=0),
        prowlarr_result("The Glass Orchard usenet", 5, protocol="usenet"),
    ])
    outcome = search(request, mam, prowlarr_client(httpserver))
    assert outcome.errors == {}
    sources = sorted((r.source, r.title) for r in outcome.releases)
    assert sources == [("mam", "The Glass Orchard"),
                       ("prowlarr:OtherTracker", "The Glass Orchard [MP3 64kbps]")]
    extra = next(r for r in outcome.releases if r.source != "mam")
    assert extra.free and extra.format == "mp3" and extra.seeders == 4


def test_a_failing_path_is_reported_and_the_other_still_used(mam, book, httpserver,
                                                             tracker_sim):
    request = SearchRequest("The Glass Orchard", "Mira Okafor")
    httpserver.expect_request("/api/v1/search").respond_with_data("boom", status=503)
    outcome = search(request, mam, prowlarr_client(httpserver))
    assert "HTTP 503" in outcome.errors["prowlarr"]
    assert [r.title for r in outcome.releases] == ["The Glass Orchard"]

    tracker_sim.control.fail(500, count=5)
    httpserver.clear()
    httpserver.expect_request("/api/v1/search").respond_with_json(
        [prowlarr_result("The Glass Orchard", 1000)])
    outcome = search(request, mam, prowlarr_client(httpserver))
    assert "mam" in outcome.errors and not outcome.all_failed
    assert [r.source for r in outcome.releases] == ["prowlarr:OtherTracker"]


def test_wrong_prowlarr_key_names_the_setting(httpserver):
    httpserver.expect_request("/api/v1/search").respond_with_data("", status=401)
    with pytest.raises(ProwlarrAuthError, match="PROWLARR_API_KEY"):
        prowlarr_client(httpserver).search("anything")


@pytest.mark.parametrize(("extra", "free"), [
    ({"downloadVolumeFactor": 0}, True),
    ({"downloadVolumeFactor": 0.5}, False),
    ({"downloadVolumeFactor": None}, False),
    ({}, False),
])
def test_only_an_explicit_zero_factor_is_free(extra, free):
    item = prowlarr_result("Some Book", 100)
    item.pop("downloadVolumeFactor")
    assert parse_release({**item, **extra}).free is free


def test_bad_results_are_skipped_not_fatal(httpserver):
    httpserver.expect_request("/api/v1/search").respond_with_json([
        {"title": ""}, {"size": 5}, {**prowlarr_result("Good One", 10), "seeders": None,
                                     "size": None},
    ])
    [good] = prowlarr_client(httpserver).search("x")
    assert good.title == "Good One" and good.size_bytes == 0 and good.seeders == 0
