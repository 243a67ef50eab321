#!/usr/bin/env python3
"""Makes labels.json for TestSharedFeedsEndToEnd from ../shared/eval/feeds (read-only).

Independent of newsflow's code: items and dates come from Python's feedparser 6
(pip install feedparser python-dateutil), JSON Feed items from the json module and
dateutil. Where feedparser and dateutil disagree on a date, or one cannot parse it, the
date was checked by hand and is set in HAND_DATES. Languages were labelled by reading the
items (LANG per file, LANG_ITEM per item); "und" means the text is too short or symbolic to
have a language (not scored). A date label "" means the feed states no date for the item.

Run: python3 mklabels.py /work/shared/eval/feeds > labels.json
"""
import calendar, datetime, json, os, sys

import feedparser
from dateutil import parser as dateparser

# Language of each feed file, by reading it (files not listed: English).
LANG = {
    "real-world/rss0__rss_0.91_encoding_1.xml": "pt",
    "real-world/rss0__rss_0.91_encoding_2.xml": "pt",
    "real-world/rss0__rss_0.91_missing_id.xml": "es",
    "real-world/rss1__rss_1.0_example_1.xml": "ja",
    "real-world/rss1__rss_1.0_iso8859.xml": "de",
    "real-world/rss2__rss_2.0_encoding_1.xml": "pt",
    "real-world/rss2__rss_2.0_ilgiornale.xml": "it",
    "real-world/rss2__rss_2.0_ilmessaggero.xml": "it",
    "real-world/rss2__rss_2.0_spiegel.xml": "de",
    "real-world/rss2__rss_2.0_spreaker.xml": "pl",
    "real-world/xml__xml_iso8859.xml": "de",
    "ill-formed/chardet/big5.xml": "zh",
    "ill-formed/chardet/eucjp.xml": "ja",
    "ill-formed/chardet/euckr.xml": "ko",
    "ill-formed/chardet/gb2312.xml": "zh",
    "ill-formed/chardet/koi8r.xml": "ru",
    "ill-formed/chardet/shiftjis.xml": "ja",
    "ill-formed/chardet/tis620.xml": "th",
    "ill-formed/chardet/windows1255.xml": "he",
    "encoding/euc-kr-attribute.xml": "und",  # one Hangul syllable in an alt attribute
    "encoding/euc-kr-item.xml": "und",       # one Hangul syllable
    "encoding/bozo_double-encoded-html.xml": "und",  # "…"
    "encoding/double-encoded-html.xml": "und",
    "encoding/bozo_linenoise.xml": "und",
    "encoding/bozo_encoding_mismatch_crash.xml": "und",
    "encoding/encoding_attribute_crash.xml": "und",
    "encoding/encoding_attribute_crash_2.xml": "und",
    "encoding/demoronize-1.xml": "und",  # "don't"
    "encoding/demoronize-2.xml": "und",
    "encoding/demoronize-3.xml": "und",
    "ill-formed/rdf_channel_empty_textinput.xml": "und",
    "ill-formed/rss_incomplete_cdata.xml": "und",
    "ill-formed/rss_item_link_corrupted_ampersands.xml": "und",
    "ill-formed/geo/georss_point_no_coords.xml": "und",
    "ill-formed/geo/georss_polygon_insufficient_coords.xml": "und",
    "ill-formed/geo/gml_point.xml": "und",
    "real-world/rss2__rss_2.0_ghost_1.xml": "und",  # "Example"
}
# Items whose language differs from their file's (file, title) -> language.
LANG_ITEM = {
    ("real-world/jsonfeed__jsonfeed_elastic_1.1.json", "Fake item"): "und",
}
# Dates checked by hand (file, title) -> UTC. feedparser misreads the first (ignores PM;
# no zone given, read as UTC like every parser we know); dateutil cannot read the Italian
# day/month names of the second.
HAND_DATES = {
    ("real-world/rss2__rss_2.0_nbcny.xml", "NYC cops search for stabbing suspect after leaving 18-year-old to bleed out on sidewalk"):
        "2023-12-16T14:02:33Z",  # "Sat, Dec 16 2023 02:02:33 PM"
    ("real-world/rss2__rss_2.0_ilmessaggero.xml", "Missili Polonia, cosa è successo? Tensione Nato-Russia, Mosca: non siamo stati noi"):
        "2022-11-15T23:38:15Z",  # "mer, 16 nov 2022 00:38:15 +0100"
}


USED = set()


def utc(dt):
    return dt.astimezone(datetime.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def du(text):
    """dateutil's reading (zone-less = UTC), or "" when it cannot."""
    try:
        d = dateparser.parse(text)
    except (ValueError, OverflowError):
        return ""
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return utc(d)


def label(rel, link, title, text, date, date_text, disagree):
    lang = LANG_ITEM.get((rel, title), LANG.get(rel, "en"))
    hand = HAND_DATES.get((rel, title))
    if hand:
        date, disagree = hand, False
        USED.add((rel, title))
    elif date_text and not date:
        sys.exit(f"{rel} {title!r}: feedparser cannot read {date_text!r}: add a HAND_DATES entry")
    if disagree:
        sys.exit(f"{rel} {title!r}: feedparser {date} vs dateutil {du(date_text)} for {date_text!r}: add a HAND_DATES entry")
    return {"set": rel.split("/")[0], "file": rel, "link": link, "title": title, "lang": lang,
            "date": date, "date_text": date_text, "text": text[:200]}


def main(root):
    out = []
    for dirpath, _, files in sorted(os.walk(root)):
        for fn in sorted(files):
            p = os.path.join(dirpath, fn)
            rel = os.path.relpath(p, root)
            raw = open(p, "rb").read()
            if fn.endswith(".json"):
                feed = json.loads(raw)
                for it in feed.get("items", []):
                    text = it.get("date_published") or it.get("date_modified") or ""
                    date = du(text) if text else ""
                    body = it.get("content_text") or it.get("content_html") or it.get("summary") or ""
                    out.append(label(rel, it.get("url", ""), it.get("title", ""), body, date, text, False))
                continue
            f = feedparser.parse(raw, response_headers={"content-location": "http://LOCAL/" + rel})
            for e in f.entries:
                text = e.get("published") or e.get("updated") or ""
                tp = e.get("published_parsed") or e.get("updated_parsed")
                date = utc(datetime.datetime.fromtimestamp(calendar.timegm(tp), datetime.timezone.utc)) if tp else ""
                body = e.get("summary", "") or (e.get("content") or [{}])[0].get("value", "")
                # dateutil cannot read zone abbreviations other than UTC/GMT (EDT, PST): those
                # are feedparser's alone, which reads them right.
                zone_abbr = text[-3:] in ("EDT", "EST", "PDT", "PST", "CDT", "CST")
                disagree = bool(text) and not zone_abbr and du(text) != date
                out.append(label(rel, e.get("link", ""), e.get("title", ""), body, date, text, disagree))
    if USED != set(HAND_DATES):
        sys.exit(f"HAND_DATES entries matching no item: {set(HAND_DATES) - USED}")
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/eval/feeds")
