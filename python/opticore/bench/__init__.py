"""Benchmarks, side by side with the reference implementations measured in the same run."""
