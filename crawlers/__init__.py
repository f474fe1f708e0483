"""The Scrapy project: one generic outlet spider, host gate, pipelines."""
