"""`make bench`: one end-to-end performance run of Hookline's ingest path.

Run as `python -m bench` from the repository root. It builds a throw-away
database, starts the web server the way `make run` does, loads it with wrk
and an open-loop client, compares with pgbench on the same database and
prints every figure plus a PASS/MISS table for the targets. The run is a list
of sections (bench/sections.py); a new measurement is one more section.
"""
