"""One poll of one source.

fetch → parse → sanitize/normalize → identify → cluster → classify → store.
"""
