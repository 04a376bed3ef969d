"""Run the securebase command as `python -m securebase`."""

import sys

from securebase.cli import main

sys.exit(main())
