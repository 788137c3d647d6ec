"""Helpers of ``bench_pairs.py``: a CrowS-Pairs-sized pair dataset and its lm-eval task."""
