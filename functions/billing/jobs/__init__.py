"""Billing's background work: the scheduled reconciliation and holds sweep, and the usage export task."""
