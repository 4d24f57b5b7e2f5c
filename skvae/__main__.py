"""``python -m skvae`` runs the ``skvae`` command."""

import sys

from .cli import main

sys.exit(main())
