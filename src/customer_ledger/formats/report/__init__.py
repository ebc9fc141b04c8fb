"""The visual report: one self-contained HTML page of charts and tables as of a date."""

from customer_ledger.formats.report.data import ReportData, gather
from customer_ledger.formats.report.html import render

__all__ = ["ReportData", "gather", "render"]
