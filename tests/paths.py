"""Where the repository's files are, for tests in any folder under tests/."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FIXTURES = ROOT / "tests" / "fixtures"
RELIABILITY = ROOT / "tests" / "reliability"
