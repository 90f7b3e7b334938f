"""Benchmarks of commission_engine against a hand-written baseline and rule-engine peers."""
