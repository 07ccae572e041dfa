"""`python -m soak` runs the soak, like `make soak` and `python soak/run.py`."""

import sys

from soak.run import main

sys.exit(main())
