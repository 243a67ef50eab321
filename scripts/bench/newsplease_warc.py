#!/usr/bin/env python3
"""newsplease_warc.py — news-please's Common Crawl mode on a local WARC file, into Elasticsearch.

The peer run of `make bench-e2e`'s WARC backfill (pkg/cmd/bench-e2e, run backfill-newsplease).
news-please's CommonCrawlExtractor reads a WARC it finds in its download directory instead of
downloading it (reuse_previously_downloaded_files), so the farm's WARC is linked there under the
name it expects (urllib.parse.quote_plus of the path) and every response record goes through
news-please's own per-record extraction (NewsPlease.from_warc: newspaper, readability, its date
and language heuristics). Each extracted article is indexed into Elasticsearch with one index
call, as news-please's Elasticsearch storage does (minus its lookup of an earlier version, which
would only make the peer slower). No date or host filter. Prints one JSON line with counts.

    python newsplease_warc.py --warc farm.warc.gz --es http://127.0.0.1:9200 --index bench-np-warc
"""
import argparse
import json
import logging
import os
import sys
import tempfile
import urllib.parse

from elasticsearch import Elasticsearch
from newsplease.crawler import commoncrawl_crawler  # noqa: F401  (imported first: the modules import each other)
from newsplease.crawler.commoncrawl_extractor import CommonCrawlExtractor


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warc", required=True, help="local WARC file (gzip)")
    ap.add_argument("--es", required=True, help="Elasticsearch URL")
    ap.add_argument("--index", required=True, help="index to write")
    args = ap.parse_args()

    # No AWS credentials: news-please then skips S3 (NoCredentialsError) without network access.
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        os.environ.pop(k, None)
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_CONFIG_FILE"] = os.devnull

    # Quiet logging (per-request debug lines would cost the peer CPU it does not spend normally).
    logging.basicConfig(level=logging.WARNING)
    for name in ("elasticsearch", "urllib3", "newsplease", "boto3", "botocore", "s3transfer"):
        logging.getLogger(name).setLevel(logging.WARNING)
    es = Elasticsearch([args.es])
    counts = {"indexed": 0, "failed": 0}

    def on_article(article):
        doc = article.get_serializable_dict() if hasattr(article, "get_serializable_dict") else article.__dict__
        try:
            es.index(index=args.index, id=article.url, body=doc)
            counts["indexed"] += 1
        except Exception as e:  # a bad document must not stop the run (news-please logs and goes on)
            counts["failed"] += 1
            print("index failed: %s: %s" % (article.url, type(e).__name__), file=sys.stderr)

    summary = {}

    def on_warc(warc_path, passed, discarded, errors, total):
        summary.update(passed=passed, discarded=discarded, errors=errors, total=total)

    name = "local.warc.gz"
    with tempfile.TemporaryDirectory() as d:
        os.symlink(os.path.abspath(args.warc), os.path.join(d, urllib.parse.quote_plus(name)))
        CommonCrawlExtractor().extract_from_commoncrawl(
            name, on_article, callback_on_warc_completed=on_warc,
            strict_date=False, reuse_previously_downloaded_files=True, local_download_dir_warc=d + "/",
            continue_after_error=True, ignore_unicode_errors=True, delete_warc_after_extraction=False,
            log_level=logging.ERROR, fetch_images=False)
    summary.update(counts)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
