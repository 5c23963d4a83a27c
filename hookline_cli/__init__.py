"""`hookline`: the command-line client of a Hookline server.

A pure client: it talks to the server over its public REST API and
WebSocket stream only and imports nothing of the server (no Django, no
settings, no database), so it runs on a laptop against a remote Hookline.
"""
