"""Evaluation harnesses: the data, metrics and runners that measure opticore's operators against
their references. Not part of the product API, and never imported by ``import opticore``: the demo
and the benchmarks import them when they run.

* :mod:`opticore.eval.tracking`: synthetic sequences with exact ground truth, OTB data, OTB metrics
  and a runner for opticore's and OpenCV's trackers.
"""
