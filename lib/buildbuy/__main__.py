"""``python -m buildbuy``: the same as the ``buildbuy`` command."""

import sys

from buildbuy.cli import main

sys.exit(main())
