"""
Settings for the benchmarks only: the product's settings plus DRF's `authtoken` (the yardstick)
and this package (the naive Argon2 token table). The product's settings are not changed.
"""

import json
import os
import warnings

from config.settings import *  # noqa: F403
from config.settings import DATABASES, INSTALLED_APPS, env

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework.authtoken", "bench"]
ROOT_URLCONF = "bench.urls"

# The benchmarks serve no static files and never collect them, so WhiteNoise's warning that
# STATIC_ROOT does not exist, given for every handler each process builds, only buried the
# progress lines (the tests ignore it too: pyproject.toml).
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

# One more database per table size (alias -> URL), configured like the default one.
for _alias, _url in json.loads(os.environ.get("BENCH_DATABASES", "{}")).items():
    DATABASES[_alias] = {
        **env.db_url_config(_url),
        "ENGINE": DATABASES["default"]["ENGINE"],
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": DATABASES["default"]["CONN_HEALTH_CHECKS"],
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
    }
DATABASE_ROUTERS = ["bench.routing.CurrentDatabase"]
