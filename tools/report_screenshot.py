"""Take the README's picture of the report: the first screen of a report page, as a headless
Chromium shows it.

    RADSWEEP_HOME=/tmp/radsweep-demo radsweep demo
    python tools/report_screenshot.py /tmp/radsweep-demo/results/demo-report/report.html \
        docs/images/report.png
"""

import argparse
import sys
from pathlib import Path

from radsweep.errors import RadsweepError
from radsweep.reports.screenshot import screenshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="the report's report.html")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--width", type=int, default=900, help="window width in px")
    parser.add_argument("--height", type=int, default=800, help="window height in px")
    parser.add_argument("--max-bytes", type=int, default=250_000, help="largest PNG to write")
    arguments = parser.parse_args()
    try:
        written = screenshot(
            arguments.page, arguments.out, arguments.width, arguments.height, arguments.max_bytes
        )
    except RadsweepError as error:
        print(f"error: {error.one_line()}", file=sys.stderr)
        sys.exit(2)
    print(f"wrote {written} ({written.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
