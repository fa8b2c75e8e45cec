"""Writes or updates the measured table in RELIABILITY.md, between two marker comments; rows of
scenarios not run this time are kept (with the form and date they were measured in)."""
import re
import time
from pathlib import Path

BEGIN = "<!-- fault-suite:table:begin -->"
END = "<!-- fault-suite:table:end -->"
COLUMNS = ["scenario", "form", "load", "faults", "accepted", "delivered", "dead", "lost", "duplicated",
           "unanswered", "503s", "recovery", "result", "notes"]
HEADER = ("| scenario | form | load (events, rate) | faults | accepted | delivered | dead | lost | duplicated | "
          "unanswered | 503s | recovery | result | notes |")


def _cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def _parse_rows(block):
    rows = {}
    for line in block.splitlines():
        if not line.startswith("| ") or line.startswith("| scenario |") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) > 1:
            rows[(cells[0], cells[1])] = line
    return rows


def _parse_meta(block):
    return {m.group(1): m.group(0) for m in re.finditer(r"^_Last (\w+) run: .*_$", block, re.M)}


def write(path, results, order, form, meta):
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n## Measured\n\n{BEGIN}\n{END}\n" if text else f"# Reliability\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    block, tail = rest.split(END, 1)
    rows = _parse_rows(block)
    metas = _parse_meta(block)
    for r in results:
        rows[(r.row["scenario"], r.row["form"])] = "| " + " | ".join(_cell(r.row.get(c, "")) for c in COLUMNS) + " |"
    keys = [(n, f) for n in order for f in ("short", "long")]
    ordered = [rows[k] for k in keys if k in rows] + [v for k, v in rows.items() if k not in keys]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    metas[form] = f"_Last {form} run: {stamp}, {meta}._"
    new_block = ("\n" + "\n".join(metas[f] for f in sorted(metas, key=lambda f: f != "short")) + f"\n\n{HEADER}\n|"
                 + "---|" * len(COLUMNS) + "\n" + "\n".join(ordered) + "\n")
    path.write_text(head + BEGIN + new_block + END + tail)
