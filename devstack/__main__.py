"""``python -m devstack``: what ``make run`` runs after migrating."""

import sys

from devstack.stack import main

sys.exit(main())
