"""Static Scrapy settings of newsmon. Per-run values (outlets, database, politeness from the config)
arrive as settings built by `monitor/runner.py`; nothing here reads the environment or the TOML."""

from scrapy.settings import default_settings as _scrapy

BOT_NAME = "newsmon"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# The data flow, in order: analyse (extract -> language -> dedup keys, in worker processes)
# -> fingerprint (the record and its keys) -> store.
ITEM_PIPELINES = {
    "crawlers.pipelines.analyse.AnalysePipeline": 100,
    "crawlers.pipelines.fingerprint.FingerprintPipeline": 300,
    "crawlers.pipelines.store.StorePipeline": 400,
}

DOWNLOADER_MIDDLEWARES = {
    # Before robots.txt (100): a request to a host the outlet does not name is dropped before
    # anything, its robots.txt included, is fetched from that host.
    "crawlers.middlewares.hosts.OutletHostsMiddleware": 50,
    # A link or redirect back to one of the run's feeds, sitemaps or homepages is not fetched again.
    "crawlers.middlewares.seeds.SeedOnceMiddleware": 55,
    "crawlers.middlewares.backoff.BackoffMiddleware": 60,
    # Scrapy's, with a fix: requests waiting for a host's robots.txt were let through unchecked.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.middlewares.robots.SharedRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    # Scrapy's, with a loop (A -> B -> A) stopped at once and told apart from a long chain.
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawlers.middlewares.redirect.LoopAwareRedirectMiddleware": 600,
    # Scrapy's, without decoding pages that have no "refresh" in their first bytes.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawlers.middlewares.redirect.QuickMetaRefreshMiddleware": 580,
    "crawlers.middlewares.backoff.BackoffRetryMiddleware": 550,
}

# Scrapy loads every component its *_BASE settings name, even one set to None, to normalise the
# names: two that newsmon never uses cost every crawl process 165 ms of imports (13 % of a crawl
# that finds nothing new, which is mostly start-up). Left out of the bases, they are never
# imported: the remote control extension (off by default; imports aiohttp, 127 ms) and the
# cookies middleware (COOKIES_ENABLED = False below; imports tldextract, 38 ms).
EXTENSIONS_BASE = {k: v for k, v in _scrapy.EXTENSIONS_BASE.items()
                   if k != "scrapy.extensions.remote_control.RemoteControl"}
DOWNLOADER_MIDDLEWARES_BASE = {k: v for k, v in _scrapy.DOWNLOADER_MIDDLEWARES_BASE.items()
                               if k != "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"}

EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "crawlers.extensions.runs.RunRecorder": 500,
    "crawlers.extensions.progress.Progress": 510,
    "crawlers.extensions.looplag.LoopLag": 520,
}

# Politeness defaults; the [crawl] table of the config overrides them per run.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10_000_000
DOWNLOAD_WARNSIZE = 0
# Items processed at once per response. An article page yields one item, and Scrapy starts this
# many tasks for every response (the default, 100, costs 8 % of the crawl process's CPU).
CONCURRENT_ITEMS = 4
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
NEWSMON_RETRY_BACKOFF_BASE = 1.0  # seconds; doubled at each retry
NEWSMON_RETRY_BACKOFF_MAX = 60.0  # also the most a Retry-After header can make us wait
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
# Breadth-first, and feeds/sitemaps/homepages (priority 100) before articles.
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
DNS_TIMEOUT = 20
LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 0
NEWSMON_PROGRESS_INTERVAL = 5.0
# A page without article text is routine on news sites: counted, logged at DEBUG.
DEFAULT_DROPITEM_LOG_LEVEL = "DEBUG"
