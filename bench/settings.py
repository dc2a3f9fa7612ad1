"""Benchmark settings: Guanxi's own, plus a bare Django view as the baseline, measured in the same run."""

from guanxi.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
