"""Scenario files: the format, the one runner, goldens, normalisers, batches, reports."""
