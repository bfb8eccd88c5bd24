"""Puts benchmarks/peers/peers.py's report into docs/benchmarks.md, between the two marker lines,
with its headings one level down (its title becomes a section of the page). Everything else in the
page is left as it is. Fails, changing nothing, if the markers are missing or out of order.

Usage: python3 benchmarks/peers/splice.py REPORT.md docs/benchmarks.md
"""
import sys

BEGIN = "<!-- benchmarks/peers/run: begin (generated; do not edit by hand, rerun benchmarks/peers/run) -->"
END = "<!-- benchmarks/peers/run: end -->"


def demoted(report):
    out = []
    fenced = False
    for line in report.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append("#" + line if line.startswith("#") and not fenced else line)
    return "\n".join(out).strip() + "\n"


def main(report_path, page_path):
    with open(report_path, encoding="utf-8") as f:
        report = f.read()
    with open(page_path, encoding="utf-8") as f:
        page = f.read()
    begin, end = page.find(BEGIN), page.find(END)
    if begin < 0 or end < begin:
        sys.exit(f"benchmarks/peers/splice.py: {page_path} lacks the lines '{BEGIN}' and '{END}' (in this order); nothing written")
    page = page[:begin + len(BEGIN)] + "\n\n" + demoted(report) + "\n" + page[end:]
    tmp = page_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    import os
    os.replace(tmp, page_path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
