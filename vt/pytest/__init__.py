"""The pytest plugin: fixtures, scenario items, goldens, reports, real-browser fixtures."""
