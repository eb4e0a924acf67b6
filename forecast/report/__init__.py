"""The quarterly report: frozen contracts, pure section builders, HTML and Markdown exporters.

``gather`` turns results (run, forecast, scenarios, what-ifs, ledger, panel) into the
contracts of :mod:`forecast.report.contracts`; :mod:`forecast.report.sections` builds the
sections from contracts only; :mod:`forecast.report.exporters` renders them.
"""
