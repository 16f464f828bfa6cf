"""`python -m bot` runs the same command line as `pact-bot`."""

import sys

from bot.core.cli import main

sys.exit(main())
