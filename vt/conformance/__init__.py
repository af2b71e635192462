"""Conformance data that is not a scenario: the codec cases and the Datastar SDK level."""
