#!/usr/bin/env python3
"""Turn the BENCH rows of a benchmark VM log into tables and plots.

    bench/report.py LOG[,LOG...] OUTDIR [--readme README.md] [--check]

Writes OUTDIR/tables.md (every table), OUTDIR/*.csv (the raw rows of each
experiment) and, when gnuplot is present, OUTDIR/reclaim.png and
OUTDIR/throughput.png. --readme replaces the part of README.md between
the bench markers with the tables and a link to the plot. --check fails
unless every experiment produced rows (the smoke test uses it).
"""
import collections
import os
import statistics
import subprocess
import sys

RECLAIMERS = ["none", "etmem", "damos", "damon", "memreclaim"]
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def read_rows(paths):
    """Rows by experiment. With several logs, an experiment comes whole from
    the last log that has it, so every table still holds one boot's runs."""
    rows = {}
    for path in paths:
        found = collections.defaultdict(list)
        with open(path, errors="replace") as f:
            for line in f:
                line = line.strip().replace("\r", "")
                if line.startswith("BENCH|"):
                    parts = line.split("|")
                    found[parts[1]].append(parts[2:])
        if "redis" in found or "quality" in found:
            found.setdefault("meta", [])
        for name, rs in found.items():
            if rs:
                rows[name] = rs
    return collections.defaultdict(list, rows)


def num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def spread(values):
    """'median (min..max)' of the numeric values, or 'n/a'."""
    vals = [v for v in (num(x) for x in values) if v is not None]
    if not vals:
        return "n/a"
    mean = statistics.median(vals)
    if len(vals) == 1:
        return f"{mean:.1f}"
    return f"{mean:.1f} ({min(vals):.1f}..{max(vals):.1f})"


def mean_of(values):
    """The median: one run disturbed by the shared host must not move it."""
    vals = [v for v in (num(x) for x in values) if v is not None]
    return statistics.median(vals) if vals else None


def table(header, body):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(out)


def vs_none(rs, none_rs, col):
    """Per run, 100 * value / the no-reclaimer run of the same repetition.

    Repetitions interleave the reclaimers, so each ratio compares two runs
    taken minutes apart on the same boot: the spread shows the noise."""
    base = {r[1]: num(r[col]) for r in none_rs}
    return [100 * num(r[col]) / base[r[1]] for r in rs
            if num(r[col]) is not None and base.get(r[1])]


def quality_table(rows, cold_mib):
    by = collections.defaultdict(list)
    for r in rows:
        by[r[0]].append(r)
    body = []
    for name in RECLAIMERS:
        rs = by.get(name, [])
        if not rs:
            continue
        cold = num(cold_mib)
        mib = [num(r[2]) * cold / 100 for r in rs if num(r[2]) is not None and cold]
        integrity = "ok" if all(r[6] == "ok" for r in rs) else ",".join(sorted({r[6] for r in rs}))
        body.append([name, spread(r[2] for r in rs), spread(mib), spread(r[3] for r in rs),
                     spread(r[4] for r in rs), spread(vs_none(rs, by.get("none", []), 5)),
                     integrity, len(rs)])
    return table(["reclaimer", "cold reclaimed %", "cold reclaimed MiB",
                  "hot paged out % (max)", "major faults", "throughput % of none",
                  "data", "runs"], body)


def redis_table(rows):
    by = collections.defaultdict(list)
    for r in rows:
        by[r[0]].append(r)
    none_rs = [r for r in by.get("none", []) if r[-1] == "ok"]
    body = []
    for name in RECLAIMERS:
        rs = [r for r in by.get(name, []) if r[-1] == "ok"]
        if not rs:
            if by.get(name):
                body.append([name, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"])
            continue
        saved = [100 * (num(r[2]) - num(r[3])) / num(r[2]) for r in rs if num(r[2])]
        body.append([name, spread(r[2] for r in rs), spread(r[3] for r in rs),
                     spread(saved), spread(vs_none(rs, none_rs, 4)),
                     spread(r[5] for r in rs), spread(r[6] for r in rs)])
    return table(["reclaimer", "RSS before MiB", "RSS after MiB", "saved %",
                  "GET rate % of none", "p50 ms", "p99 ms"], body)


def cost_table(rows):
    by = collections.defaultdict(list)
    for r in rows:
        by[r[0]].append(r)
    body = []
    for name, rs in by.items():
        per_gib_s = [num(r[2]) / (num(r[3]) / 1024) / num(r[4]) for r in rs
                     if num(r[2]) is not None and num(r[3]) and num(r[4])]
        per_cycle = [num(r[2]) / (num(r[3]) / 1024) / num(r[5]) for r in rs
                     if name == "etmem" and num(r[2]) is not None and num(r[5])]
        body.append([name, spread(r[2] for r in rs), spread(per_gib_s),
                     spread(per_cycle) if per_cycle else "-"])
    return table(["reclaimer", "CPU ms in run", "CPU ms per GiB per second",
                  "CPU ms per GiB per cycle"], body)


def scale_table(rows, what):
    by = collections.defaultdict(list)
    for r in rows:
        by[int(r[0])].append(r)
    body = []
    for key in sorted(by):
        rs = by[key]
        wall = mean_of(r[2] for r in rs)
        per = f"{wall / (key / 1024):.1f}" if what == "MiB" and wall else (
            f"{wall / key:.2f}" if wall else "n/a")
        body.append([key, spread(r[2] for r in rs), spread(r[3] for r in rs), per])
    unit = "ms per GiB" if what == "MiB" else "ms per process"
    return table([what, "scan wall ms", "scan CPU ms", unit], body)


def write_csvs(rows, outdir):
    for name, rs in rows.items():
        with open(os.path.join(outdir, f"{name}.csv"), "w") as f:
            for r in rs:
                f.write(",".join(r) + "\n")


def plot(rows, outdir):
    curves = collections.defaultdict(list)
    for r in rows.get("curve", []):
        if r[1] == "1":
            curves[r[0]].append(r[2:])
    if not curves or subprocess.run(["which", "gnuplot"], capture_output=True).returncode:
        return []
    made = []
    for name in curves:
        with open(os.path.join(outdir, f"curve-{name}.dat"), "w") as f:
            for c in curves[name]:
                f.write(" ".join(c) + "\n")
    for png, col, ylabel in (("reclaim.png", 2, "cold set reclaimed (%)"),
                             ("throughput.png", 4, "hot-set passes per second")):
        series = ", ".join(f"'curve-{n}.dat' using 1:{col} with lines lw 2 title '{n}'"
                           for n in curves)
        script = (f"set terminal png size 800,450; set output '{png}';"
                  f"set xlabel 'seconds'; set ylabel '{ylabel}'; set key bottom right;"
                  f"set title 'measured under QEMU emulation: compare, do not quote';"
                  f"plot {series}")
        if subprocess.run(["gnuplot", "-e", script], cwd=outdir).returncode == 0:
            made.append(png)
    return made


def render(rows):
    meta = rows.get("meta", [[]])[0]
    info = dict(zip(meta[0::2], meta[1::2]))
    parts = [f"Kernel {info.get('kernel', '?')}, workload {info.get('cold_mib', '?')} MiB cold + "
             f"{info.get('hot_mib', '?')} MiB hot, {info.get('seconds', '?')} s per run, "
             f"{info.get('reps', '?')} runs each (median, then min..max). Measured under QEMU "
             "emulation: only the ratios between columns mean anything."]
    if rows.get("quality"):
        parts += ["### Reclaim quality", quality_table(rows["quality"], info.get("cold_mib"))]
    if rows.get("redis"):
        parts += ["### redis-server, hot keys only", redis_table(rows["redis"])]
    if rows.get("cost"):
        parts += ["### Cost", cost_table(rows["cost"])]
    if rows.get("scale_mem"):
        parts += ["### Scan cost by managed memory", scale_table(rows["scale_mem"], "MiB")]
    if rows.get("scale_procs"):
        parts += ["### Scan cost by number of processes (16 MiB each)",
                  scale_table(rows["scale_procs"], "processes")]
    if rows.get("pagemap"):
        body = []
        for r in rows["pagemap"]:
            r = r + ["?"] * 12
            body.append([r[0], f"{r[1]} ({r[5]})", f"{r[6]} ({r[7]})", f"{r[8]} ({r[9]})",
                         f"{r[2]} / {r[3]}", f"{r[10]} / {r[11]}"])
        mib = rows["pagemap"][0][4] if len(rows["pagemap"][0]) > 4 else "?"
        parts += [f"### Scan of {mib} MiB of 4 KiB pages against reading /proc/PID/pagemap\n\n"
                  "Medians of interleaved runs, each run's own ratio in brackets. "
                  "\"Pre-check\": PTE tables whose PMD accessed bit stayed clear are reported "
                  "from their last read (kmod/scan_dump.c).",
                  table(["state", "scan / pagemap", "without pre-check / pagemap",
                         "with / without pre-check", "scan ms / pagemap ms",
                         "tables read / skipped per scan"], body)]
    return "\n\n".join(parts) + "\n"


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    log, outdir = args[0], args[1]
    os.makedirs(outdir, exist_ok=True)
    rows = read_rows(log.split(","))
    write_csvs(rows, outdir)
    text = render(rows)
    with open(os.path.join(outdir, "tables.md"), "w") as f:
        f.write(text)
    pngs = plot(rows, outdir)
    print(text)
    if "--readme" in argv:
        readme = argv[argv.index("--readme") + 1]
        with open(readme) as f:
            content = f.read()
        if BEGIN in content and END in content:
            rel = os.path.relpath(outdir, os.path.dirname(os.path.abspath(readme)))
            pics = "".join(f"\n![{p}]({rel}/{p})\n" for p in pngs)
            head, rest = content.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            with open(readme, "w") as f:
                f.write(head + BEGIN + "\n" + text + pics + END + tail)
    if "--check" in argv:
        missing = [e for e in ("meta", "quality", "curve", "redis", "cost",
                               "scale_mem", "scale_procs", "pagemap", "done")
                   if not rows.get(e)]
        bad = [r for r in rows.get("quality", []) if r[6] not in ("ok", "unavailable")]
        if missing or bad:
            print(f"report: missing experiments {missing}, bad runs {bad}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
