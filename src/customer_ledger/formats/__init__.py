"""Files in and out: JSON Lines commands, the source spreadsheets (CSV/XLSX) and exports,
the HTML report. No argparse, no printing: the CLI and the web build on these."""
