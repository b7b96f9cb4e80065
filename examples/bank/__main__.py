"""``python -m examples.bank``: run the bank demo."""

import sys

from .cli import main

sys.exit(main())
