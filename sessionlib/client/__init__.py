"""The client: sessions, fetch and feed mapping, timelines."""
