"""Measure how long a compliance report takes per customer, from the recorded scans.

Usage: .venv/bin/python bench/bench_reports.py [--rounds 3]

Renders each bundled customer's report from tests/fixtures/scans, `--rounds` times, and
prints the median seconds for each step: loading and assessing the scan, rendering the
HTML, and laying out the PDF. The last line extrapolates the median total to 1,000
customers, one report after another on one core. The figures depend on the machine;
docs/benchmarks.md records one run.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pypdf import PdfReader

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from securebase.cli import load_project  # noqa: E402
from securebase.report import build_report_context, render_html, write_pdf  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "scans"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="renderings per customer (default: 3)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be 1 or more, got {args.rounds}")

    config = load_project(REPO, "dev").config
    totals = []
    print(f"{'customer':<22} {'results':>7} {'assess s':>9} {'html s':>7} {'pdf s':>7} {'pages':>5} {'total s':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for customer in config.customers:
            timings: dict[str, list[float]] = {"assess": [], "html": [], "pdf": []}
            for number in range(args.rounds):
                started = time.perf_counter()
                context = build_report_context(config, customer.key, FIXTURES)
                assessed = time.perf_counter()
                html = render_html(context)
                rendered = time.perf_counter()
                pdf_path = Path(folder) / f"{customer.key}-{number}.pdf"
                write_pdf(html, pdf_path)
                finished = time.perf_counter()
                timings["assess"].append(assessed - started)
                timings["html"].append(rendered - assessed)
                timings["pdf"].append(finished - rendered)
            medians = {step: statistics.median(values) for step, values in timings.items()}
            total = sum(medians.values())
            totals.append(total)
            pages = len(PdfReader(pdf_path).pages)
            results = sum(source.result_count for source in context["scan"].sources)
            print(
                f"{customer.key:<22} {results:>7} {medians['assess']:>9.2f} {medians['html']:>7.2f} "
                f"{medians['pdf']:>7.2f} {pages:>5} {total:>8.2f}"
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    median_total = statistics.median(totals)
    print(f"peak memory {peak_mb:.0f} MiB; median {median_total:.2f} s per report, "
          f"so about {median_total * 1000 / 60:.0f} minutes for 1,000 customers on one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
