"""Stories: cross-source clustering, classification, places, sponsored flag, search."""
