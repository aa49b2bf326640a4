# Copy to instance/config.py. Every key can also be set as FEEDHUB_<KEY> in the
# environment (the environment wins). Values shown are the defaults.

# DATABASE_URL = "postgresql://feedhub@127.0.0.1:5432/feedhub"  # default: SQLite here
# ALLOW_PRIVATE_NETWORKS = False   # True lets sources live on 127.0.0.1 / 10.x / 192.168.x
# PUBLIC_READING = True            # anonymous visitors may read
# FALLBACK_CATEGORY = "Weitere Artikel"
# RETENTION_DAYS = 180             # starred stories are kept
# DEFAULT_INTERVAL = 1800          # seconds between polls of a source, before adapting
# MIN_INTERVAL = 300
# MAX_INTERVAL = 86400
# MAX_BACKOFF = 86400
# FETCH_WORKERS = 16
# PARSE_PROCESSES = 0              # 0: one fewer than cores on 2+ cores, inline on 1; -1: inline
# MAX_PER_HOST = 2                 # concurrent requests per host
# CONNECT_TIMEOUT = 10.0
# TOTAL_TIMEOUT = 30.0
# MAX_BODY_BYTES = 15728640
# WEBSUB_HUB = ""                  # e.g. "https://pubsubhubbub.appspot.com/"
# LOAD_SAMPLE_SOURCES = True       # a fresh install ingests the bundled sample feeds
