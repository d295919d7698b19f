"""The study's figures and tables, from a results store or a W&B project, as one HTML report.

from radsweep.reports import build_report
build_report(ResultsStore(path), Path("report"))   # -> report/report.html
"""

from radsweep.reports.build import build_report

__all__ = ["build_report"]
