"""
Settings for the benchmarks only: the product's settings plus DRF's `authtoken` (the yardstick)
and this package (the naive Argon2 token table). The product's settings are not changed.
"""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework.authtoken", "bench"]
ROOT_URLCONF = "bench.urls"
