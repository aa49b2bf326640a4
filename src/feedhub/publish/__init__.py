"""Output feeds: saved filters over stories, rendered as Atom, RSS and JSON Feed.

``query`` selects the stories of a feed, ``items`` turns them into plain
:class:`~feedhub.publish.items.FeedItem` records, ``atom_rss`` and ``jsonfeed``
render them, ``cache`` keeps rendered bytes per process and decides with one
cheap query whether they are still current, ``websub`` pings a hub.
"""
