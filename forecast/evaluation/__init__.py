"""Evaluation: proper scores, pseudo-real-time backtests, skill tables and the forecast ledger.

DESIGN.md section 5. Scores are thin wrappers over ``scoringrules``; backtests refit the model
at each origin on the panel as it was public then and score it beside the baselines; the
ledger keeps every issued forecast, its outcome and its score in an SQLite file.
"""
