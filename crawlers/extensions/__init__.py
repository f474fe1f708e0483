"""Scrapy extensions: run records in crawl_runs, and periodic progress lines."""
