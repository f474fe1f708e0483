"""Downloader middlewares: the outlet host gate and retries with backoff."""
