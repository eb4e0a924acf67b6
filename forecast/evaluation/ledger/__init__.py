"""The forecast ledger: every issued forecast, its outcome and its score, in one SQLite file.

``tables`` (the SQL of each schema version), ``schema`` (migrations, opening safely,
verification), ``chain`` (the hash chains and their canonical encoding), ``store`` (recording
an issue), ``resolve`` (recording outcomes), ``scoring`` (scoring resolved forecasts),
``track`` (the track record), ``export`` (an issue as JSON with its root hash) and
``workflow`` (the ``forecast ledger`` commands as plain functions).
"""
