"""``python -m customer_ledger`` is the ``customer-ledger`` command."""

import sys

from customer_ledger.cli.main import main

sys.exit(main())
