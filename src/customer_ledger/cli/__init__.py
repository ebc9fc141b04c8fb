"""The command line (``customer-ledger``): argparse and rich over the library, one module
per group of subcommands; ``customer_ledger.cli.main.main`` runs one."""
