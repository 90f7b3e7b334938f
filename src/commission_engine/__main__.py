"""Run the command line as ``python -m commission_engine``."""

import sys

from .cli import main

sys.exit(main())
