"""Datastar's expression and attribute grammar: `data-*` names, JavaScript expressions and values,
actions (sans-IO)."""
