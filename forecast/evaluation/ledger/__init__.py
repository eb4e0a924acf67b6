"""The forecast ledger: every issued forecast, its outcome and its score, in one SQLite file.

``schema`` (tables, migrations, opening safely), ``store`` (recording an issue), ``resolve``
(recording outcomes), ``scoring`` (scoring resolved forecasts), ``track`` (the track record)
and ``workflow`` (the four ``forecast ledger`` commands as plain functions).
"""
