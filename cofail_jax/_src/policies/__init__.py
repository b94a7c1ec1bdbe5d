"""Combination policies measured against the ceiling: votes, cascades,
learned routers, same- vs mixed-model ensembles, answer formats and judge panels.

Each module holds pure array functions; the CLI commands (``cofail vote``, ``route``,
``cascade``, ``ensembles``, ``formats``, ``judges``) call them.
"""
