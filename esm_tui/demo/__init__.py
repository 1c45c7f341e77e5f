"""The demo, and the test suite's DNS: a loopback authoritative server (server.py) that
answers from zone data (records.py, zones/), and the scenario `esm-tui --demo` runs
(scenario.py). `python -m esm_tui.demo` serves the demo zones on their own.
"""
