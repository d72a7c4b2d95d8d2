#!/usr/bin/env python3
"""Turn the BENCH rows of a benchmark VM log into tables and plots.

    bench/report.py LOG[,LOG...] OUTDIR [--readme README.md [--readme-NAME-only ...]]
                    [--check] [--check-costs] [--check-workloads]

Writes OUTDIR/tables.md (every table), OUTDIR/*.csv (the raw rows of each
experiment) and, when gnuplot is present, OUTDIR/reclaim.png,
OUTDIR/throughput.png, OUTDIR/budget.png and OUTDIR/budgetredis.png. A LOG may also be a
directory of such CSV files (the committed bench/results/ of an earlier
run); with several LOGs each experiment comes whole from the last that has
it. --readme replaces the part of README.md between the bench markers
with the tables and links to the plots, and the budget, damon, costs and
workloads blocks (their own markers, added after that part if missing;
the budget experiment on redis right after the budget block);
with one or more --readme-NAME-only (NAME: budget, damon, costs,
workloads; budget covers both budget blocks), only those blocks. --check fails unless every experiment of a
full run produced rows and, in the budget experiment, every configuration
its runs; --check-costs and --check-workloads check a costs or workloads
boot (the smoke test uses all three).
"""
import collections
import os
import statistics
import subprocess
import sys

RECLAIMERS = ["none", "etmem", "damos", "damon", "memreclaim"]
# The budget experiment's configurations are FAMILY:SETTING.
FAMILIES = ["none", "slide", "damos", "psi", "budget"]
FAMILY_TEXT = {"none": "none", "slide": "slide, fixed T", "damos": "DAMOS, PSI goal",
               "psi": "etmemd psi engine", "budget": "slide, budget mode"}
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
# The budget experiment has a block of its own, so that a boot of budget
# alone (bench/run --only budget) refreshes it and leaves the rest alone.
BUDGET_BEGIN, BUDGET_END = "<!-- bench:budget:begin -->", "<!-- bench:budget:end -->"
# The same experiment on redis (bench/run --only budget-redis).
BREDIS_BEGIN, BREDIS_END = "<!-- bench:budgetredis:begin -->", "<!-- bench:budgetredis:end -->"
# Likewise the damon experiment (bench/run --only damon).
DAMON_BEGIN, DAMON_END = "<!-- bench:damon:begin -->", "<!-- bench:damon:end -->"
COSTS_BEGIN, COSTS_END = "<!-- bench:costs:begin -->", "<!-- bench:costs:end -->"
WL_BEGIN, WL_END = "<!-- bench:workloads:begin -->", "<!-- bench:workloads:end -->"


def read_rows(paths):
    """Rows by experiment. With several logs, an experiment comes whole from
    the last log that has it, so every table still holds one boot's runs."""
    rows = {}
    for path in paths:
        found = collections.defaultdict(list)
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                if name.endswith(".csv"):
                    with open(os.path.join(path, name)) as f:
                        found[name[:-4]] = [line.rstrip("\n").split(",") for line in f]
        else:
            with open(path, errors="replace") as f:
                for line in f:
                    line = line.strip().replace("\r", "")
                    if line.startswith("BENCH|"):
                        parts = line.split("|")
                        found[parts[1]].append(parts[2:])
        # The meta row describes quality and redis: a boot of budget only
        # leaves the earlier run's.
        # So does a boot of the damon experiment, whose own description
        # goes with its block.
        # (A directory of CSV files has these rows of its own already.)
        if "damon_quality" in found and found.get("meta") and "damon_meta" not in found:
            found["damon_meta"] = found["meta"]
        if ("steady" in found or "pageout" in found) and found.get("meta") and \
                "costs_meta" not in found:
            found["costs_meta"] = found["meta"]
        if "wl_meta" in found and found.get("meta") and "workloads_meta" not in found:
            found["workloads_meta"] = found["meta"]
        if "redis" not in found and "quality" not in found:
            found.pop("meta", None)
        for name, rs in found.items():
            if rs:
                rows[name] = rs
    return collections.defaultdict(list, rows)


def meta_of(rows, name):
    """The key/value row @name (meta, budget_meta, ...) as a dict, or {}."""
    row = rows.get(name, [[]])[0] if rows.get(name) else []
    return dict(zip(row[0::2], row[1::2]))


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
    new_cols = any(len(r) >= 12 for r in rows)
    body = []
    for name in RECLAIMERS:
        rs = [r for r in by.get(name, []) if r[-1] == "ok"]
        if not rs:
            if by.get(name):
                body.append([name] + ["n/a"] * (10 if new_cols else 7))
            continue
        saved = [100 * (num(r[2]) - num(r[3])) / num(r[2]) for r in rs if num(r[2])]
        # Rows before the major-fault column had 8 fields, before the RSS
        # kinds and the sampled mean 9.
        row = [name, spread(r[2] for r in rs), spread(r[3] for r in rs)]
        if new_cols:
            row += [spread(r[10] for r in rs if len(r) >= 12),
                    spread(r[8] for r in rs if len(r) >= 12),
                    spread(r[9] for r in rs if len(r) >= 12)]
        body.append(row + [spread(saved), spread(r[7] for r in rs if len(r) >= 9),
                           spread(vs_none(rs, none_rs, 4)),
                           spread(r[5] for r in rs), spread(r[6] for r in rs)])
    head = ["reclaimer", "RSS before MiB", "RSS after MiB"]
    if new_cols:
        head += ["RSS mean, 2nd half MiB", "anon after MiB", "file after MiB"]
    return table(head + ["saved % (after)", "major faults in run", "GET rate % of none",
                         "p50 ms", "p99 ms"], body)


def redis_vs_damos(rows):
    """Issue 16's redis targets, etmem against DAMOS per repetition: memory
    saved (RSS after the run), major faults, GET rate. '' for rows from
    before the major-fault column."""
    ok = [r for r in rows if r[-1] == "ok" and len(r) >= 9]
    fe = {r[1]: num(r[7]) for r in ok if r[0] == "etmem"}
    fd = {r[1]: num(r[7]) for r in ok if r[0] == "damos"}
    keys = [k for k in sorted(fe) if k in fd and fe[k] is not None and fd[k] is not None]
    if not keys:
        return ""
    # RSS after: less is more memory saved; etmem / DAMOS above 1 saves less.
    rss = paired(ok, "etmem", "damos", 3)
    rate = paired(ok, "etmem", "damos", 4)
    lines = ["- major faults, etmem vs DAMOS per repetition: "
             + ", ".join(f"{fe[k]:.0f} vs {fd[k]:.0f}" for k in keys)
             + (f" (ratio {ratio_spread(paired(ok, 'etmem', 'damos', 7), 3)})"
                if all(fd[k] for k in keys) else "")]
    if rss:
        lines.append(f"- RSS after the run, etmem / DAMOS: {ratio_spread(rss)} "
                     "(above 1: etmem saved less)")
    mean = paired([r for r in ok if len(r) >= 12], "etmem", "damos", 10)
    if mean:
        lines.append(f"- RSS mean over the run's second half, etmem / DAMOS: "
                     f"{ratio_spread(mean)} (above 1: etmem saved less)")
    anon = paired([r for r in ok if len(r) >= 12], "etmem", "damos", 8)
    if anon:
        lines.append(f"- anonymous RSS after the run, etmem / DAMOS: {ratio_spread(anon)}; "
                     "file RSS after, etmem vs DAMOS per repetition: " + ", ".join(
                         f"{e[9]} vs {d[9]}" for e in ok for d in ok
                         if len(e) >= 12 and len(d) >= 12 and e[0] == "etmem"
                         and d[0] == "damos" and e[1] == d[1]) + " MiB")
    if rate:
        lines.append(f"- GET rate, etmem / DAMOS: {ratio_spread(rate)}")
    return "\n".join(lines)


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


def budget_groups(rows):
    """Rows of the budget experiment by configuration, in run order."""
    by = collections.OrderedDict()
    for r in rows:
        by.setdefault(r[0], []).append(r)
    return by


def budget_target(config):
    """('majflt', N per s) or ('stall', us per s) of a budget-mode setting."""
    # "5flt/s+sleep16": the budget is before the "+".
    setting = config.split(":", 1)[-1].split("+", 1)[0]
    digits = "".join(c for c in setting if c.isdigit())
    if not config.startswith("budget:") or not digits:
        return None
    if setting.startswith("stall"):
        return "stall", int(digits) * 10000
    return "majflt", int(digits)


def budget_met(r, target):
    """A run of budget mode met its budget within 20%."""
    kind, value = target
    cost = num(r[4]) if kind == "majflt" else num(r[8] if len(r) > 8 else None)
    return cost is not None and cost <= 1.2 * value


CPU_TEXT = ("*Reclaimer CPU*: the CPU time of etmemd (slide, budget mode, the psi engine: "
            "its scans and page-outs run in its threads) or kdamond over the window, in % of "
            "one CPU; on the instruction clock, time taken from the workload's one clock. ")


def budget_table(rows):
    body = []
    # Rows from before the reclaimer's CPU column had 11 fields.
    cpu_col = any(len(r) > 11 for r in rows)
    for config, rs in budget_groups(rows).items():
        ok_rs = [r for r in rs if r[5] != "unavailable"]
        family, _, setting = config.partition(":")
        if not ok_rs:
            body.append([FAMILY_TEXT.get(family, family), setting or "-"]
                        + ["n/a"] * (7 if cpu_col else 6) + ["unavailable", len(rs)])
            continue
        target = budget_target(config)
        met = "-"
        if target:
            n = sum(budget_met(r, target) for r in ok_rs)
            met = f"{n}/{len(ok_rs)}"
        stall_pct = [num(r[8]) / 10000 for r in ok_rs if len(r) > 8 and num(r[8]) is not None]
        data = "ok" if all(r[5] == "ok" for r in ok_rs) else ",".join(sorted({r[5] for r in ok_rs}))
        cpu = [spread(r[11] for r in ok_rs if len(r) > 11)] if cpu_col else []
        body.append([FAMILY_TEXT.get(family, family), setting or "-",
                     spread(r[2] for r in ok_rs), spread(r[3] for r in ok_rs),
                     spread(r[4] for r in ok_rs), spread(stall_pct)] + cpu +
                    [spread(r[6] for r in ok_rs), met, warm_up(ok_rs), data, len(rs)])
    return table(["reclaimer", "setting", "memory saved %", "slowdown %",
                  "major faults/s", "cgroup stall % of time"]
                 + (["reclaimer CPU % (of one)"] if cpu_col else [])
                 + ["resident MiB", "budget met (within 20%)", "warm-up s", "data", "runs"],
                 body)


def cpus_table(cpu_rows, budget_rows):
    """Where each configuration's windows spent the guest's CPU.

    cpu_rows are budget_cpus (or budgetredis_cpus) rows: configuration,
    repetition, then "cpuN=%", "workload=%", "top=comm:%,..." and
    "window_ms=N", all in % of one CPU over the window (bench.sh,
    window_cpus()). Configurations come in the order of budget_rows; each
    cell is the median over the repetitions with its range. The tasks
    column names the 3 tasks besides the workload with the highest median
    share over the repetitions (a task absent from a repetition's top 4
    counts 0 there). Returns '' without rows.
    """
    by = collections.OrderedDict((r[0], []) for r in budget_rows)
    for r in cpu_rows:
        by.setdefault(r[0], []).append(dict(f.split("=", 1) for f in r[2:] if "=" in f))
    cpus = sorted({k for runs in by.values() for run in runs for k in run
                   if k.startswith("cpu")}, key=lambda k: int(k[3:] or 0))
    body = []
    for config, runs in by.items():
        if not runs:
            continue
        family, _, setting = config.partition(":")
        tops = []
        for run in runs:
            tops.append({c: num(v) or 0.0 for c, _, v in
                         (t.rpartition(":") for t in run.get("top", "").split(",") if ":" in t)})
        names = {c for t in tops for c in t}
        ranked = sorted(names, key=lambda c: -statistics.median(t.get(c, 0.0) for t in tops))[:3]
        body.append([FAMILY_TEXT.get(family, family), setting or "-"]
                    + [spread(run.get(c) for run in runs) for c in cpus]
                    + [spread(run.get("workload") for run in runs),
                       spread(sum(num(run.get(c)) or 0 for c in cpus) - (num(run.get("workload")) or 0)
                              for run in runs),
                       ", ".join(f"{c} {spread(t.get(c, 0.0) for t in tops)}" for c in ranked) or "-",
                       len(runs)])
    if not body:
        return ""
    return table(["reclaimer", "setting"] + [f"{c} busy %" for c in cpus]
                 + ["workload %", "all but the workload %", "tasks besides the workload (%)",
                    "runs"], body)


CPUS_TEXT = ("Where the windows' CPU went: each vCPU's busy share (/proc/stat), the "
             "workload's own, and the rest (every other task, interrupts and the kernel's "
             "own work), all in % of one CPU over the window, from two snapshots taken by one "
             "process that leaves itself out (its own time still shows in its vCPU's busy "
             "share: compare with *none*). Under the instruction clock every instruction "
             "besides the workload's is time the workload does not get.")


def warm_up(rs):
    """The warm-up before the window (column 9) and, for budget mode, in how
    many runs the controller had settled by then (column 10: yes, no; - for
    a fixed warm-up). Logs from before the settle wait have neither."""
    warm = [r[9] for r in rs if len(r) > 10]
    if not warm:
        return "n/a"
    settled = [r[10] for r in rs if len(r) > 10 and r[10] in ("yes", "no")]
    text = spread(warm)
    if settled:
        text += f", settled {settled.count('yes')}/{len(settled)}"
    return text


def budget_points(rows):
    """(family, setting, median slowdown, median saved) per configuration."""
    points = []
    for config, rs in budget_groups(rows).items():
        ok_rs = [r for r in rs if r[5] == "ok"]
        slow, saved = mean_of(r[3] for r in ok_rs), mean_of(r[2] for r in ok_rs)
        if slow is not None and saved is not None:
            family, _, setting = config.partition(":")
            points.append((family, setting or "none", slow, saved))
    return points


def runs_hold(rows, setting, limit):
    """Whether a medians' win at @limit % slowdown holds run by run: every
    run of budget mode's @setting within the limit, and none of another
    family's runs within it saving more than that setting's least."""
    groups = budget_groups(rows)
    mine = [r for r in groups.get(f"budget:{setting}", []) if r[5] == "ok"]
    slow = [num(r[3]) for r in mine]
    if not mine or any(v is None or v > limit for v in slow):
        return f" on the medians; not in every run (slowdowns {', '.join(r[3] for r in mine)}%)"
    least = min(num(r[2]) for r in mine)
    better = [f"{c} {r[2]}% at {r[3]}%" for c, rs in groups.items()
              if not c.startswith(("budget:", "none")) for r in rs
              if r[5] == "ok" and num(r[3]) is not None and num(r[3]) <= limit
              and num(r[2]) is not None and num(r[2]) > least]
    if better:
        return (f" on the medians; not in every run (its least, {least:.1f}%, is below "
                + ", ".join(better) + ")")
    return f", in every run too ({len(mine)} of {len(mine)} within {limit}%)"


def budget_verdict(rows):
    """The issue's goal, checked against the medians: at the same slowdown
    budget mode saves at least as much as each other family, and it meets
    its own budget within 20% in steady state."""
    points = budget_points(rows)
    lines = []
    for limit in (1, 5):
        best = {}
        for family, setting, slow, saved in points:
            if family != "none" and slow <= limit and saved > best.get(family, (None, -1e9))[1]:
                best[family] = (setting, saved)
        if not best:
            lines.append(f"- At a slowdown of at most {limit}%: no reclaimer, budget mode "
                         "included, stayed that cheap in this run: the figures cannot show "
                         "the goal there.")
            continue
        if "budget" not in best:
            lines.append(f"- At a slowdown of at most {limit}%: no budget-mode setting is "
                         "that cheap, while " + ", ".join(
                             f"{FAMILY_TEXT[f]} {s} ({v:.1f}% saved)" for f, (s, v) in best.items())
                         + " is: not met there.")
            continue
        mine = best["budget"][1]
        worse = [f"{FAMILY_TEXT[f]} {s} saves {v:.1f}%" for f, (s, v) in best.items()
                 if f != "budget" and v > mine]
        others = ", ".join(f"{FAMILY_TEXT[f]} {v:.1f}% ({s})" for f, (s, v) in best.items()
                           if f != "budget") or "no other reclaimer is that cheap"
        lines.append(f"- At a slowdown of at most {limit}%: budget mode saves {mine:.1f}% "
                     f"({best['budget'][0]}); the best of the others: {others}. "
                     + ("Met" + runs_hold(rows, best["budget"][0], limit) + "."
                        if not worse else "Not met: " + "; ".join(worse) + "."))
    # At the same slowdown in general: a point of another family that is no
    # slower and saves more beats a budget-mode point.
    beaten = []
    for family, setting, slow, saved in points:
        if family != "budget":
            continue
        by = [f"{FAMILY_TEXT[f]} {s2} ({sl:.1f}%, {sv:.1f}%)" for f, s2, sl, sv in points
              if f not in ("budget", "none") and sl <= slow and sv > saved]
        if by:
            beaten.append(f"{setting} ({slow:.1f}% slower, {saved:.1f}% saved) by " + ", ".join(by))
    if beaten:
        lines.append("- Budget-mode points beaten at no more slowdown: " + "; ".join(beaten)
                     + ". Not met by these figures.")
    elif any(p[0] == "budget" for p in points):
        lines.append("- No other reclaimer's point saves more at the same or less slowdown "
                     "than a budget-mode point.")
    met, total = [], []
    for config, rs in budget_groups(rows).items():
        target = budget_target(config)
        ok_rs = [r for r in rs if r[5] == "ok"]
        if target and ok_rs:
            total.append(config)
            if all(budget_met(r, target) for r in ok_rs):
                met.append(config)
    if total:
        missed = [c.split(":", 1)[1] for c in total if c not in met]
        lines.append(f"- Own budget within 20% in the measured window: {len(met)} of "
                     f"{len(total)} settings in every run"
                     + (f" (missed: {', '.join(missed)})." if missed else "."))
    return "\n".join(lines)


def write_csvs(rows, outdir):
    for name, rs in rows.items():
        with open(os.path.join(outdir, f"{name}.csv"), "w") as f:
            for r in rs:
                f.write(",".join(r) + "\n")


def plot_budget(rows, outdir, name="budget", workload="moving hot set",
                xlabel="slowdown of the hot thread (% of none)"):
    """The memory saved against slowdown plot of the budget experiment
    @name (budget, budgetredis): {name}.png, or [] without rows or gnuplot."""
    points = budget_points(rows.get(name, []))
    if not points or subprocess.run(["which", "gnuplot"], capture_output=True).returncode:
        return []
    series = []
    meta = meta_of(rows, f"{name}_meta")
    for i, family in enumerate(FAMILIES):
        mine = [p for p in points if p[0] == family]
        if not mine:
            continue
        dat = f"{name}-{family}.dat"
        with open(os.path.join(outdir, dat), "w") as f:
            for _, setting, slow, saved in mine:
                f.write(f'{slow:.2f} {saved:.2f} "{setting}"\n')
        series.append(f"'{dat}' using 1:2 with points pt {i + 5} ps 1.6 lc {i + 1} "
                      f"title '{FAMILY_TEXT[family]}'")
        series.append(f"'{dat}' using 1:2:3 with labels offset 0.8,0.7 left font ',8' "
                      f"tc lt {i + 1} notitle")
    script = (f"set terminal png size 900,560; set output '{name}.png';"
              f"set xlabel '{xlabel}';"
              "set ylabel 'memory saved (% of none)'; set key bottom right; set grid;"
              f"set title '{workload}, medians; measured under QEMU emulation"
              + (f", instruction clock (shift {icount(meta)})"
                 if icount(meta) is not None else "") + "';"
              f"plot {', '.join(series)}")
    ok = subprocess.run(["gnuplot", "-e", script], cwd=outdir).returncode == 0
    return [f"{name}.png"] if ok else []


def plot(rows, outdir):
    made = plot_budget(rows, outdir)
    made += plot_budget(rows, outdir, "budgetredis", "redis, hot keys only",
                        "slowdown: GETs per second below none (%)")
    curves = collections.defaultdict(list)
    for r in rows.get("curve", []):
        if r[1] == "1":
            curves[r[0]].append(r[2:])
    if not curves or subprocess.run(["which", "gnuplot"], capture_output=True).returncode:
        return made
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
    info = meta_of(rows, "meta")
    parts = [f"Kernel {info.get('kernel', '?')}, workload {info.get('cold_mib', '?')} MiB cold + "
             f"{info.get('hot_mib', '?')} MiB hot, {info.get('seconds', '?')} s per run, "
             f"{info.get('reps', '?')} runs each (median, then min..max). Measured under QEMU "
             "emulation: only the ratios between columns mean anything."]
    if rows.get("quality"):
        parts += ["### Reclaim quality", quality_table(rows["quality"], info.get("cold_mib"))]
    if rows.get("redis"):
        parts += ["### redis-server, hot keys only", redis_table(rows["redis"])]
        lines = redis_vs_damos(rows["redis"])
        if lines:
            parts.append(lines)
    if rows.get("cost"):
        parts += ["### Cost", cost_table(rows["cost"])]
    scale_boot = meta_of(rows, "scale_meta")
    if rows.get("scale_mem"):
        parts += ["### Scan cost by managed memory"]
        if scale_boot:
            parts += [f"This table and the next come from a boot of their own (bench/run "
                      f"--only scale, kernel {scale_boot.get('kernel', '?')}, a 6 GiB guest). "
                      "A full scan (bench/scancost: every page's state through the family, "
                      "no flags) of processes whose memory was written once; wall and CPU "
                      "time of the scanning thread, 3 repetitions each: the first finds every "
                      "page accessed (the max), the next two idle, mostly reported through the "
                      "PMD pre-check (the median)."]
        parts += [scale_table(rows["scale_mem"], "MiB")]
    if rows.get("scale_procs"):
        parts += ["### Scan cost by number of processes (16 MiB each)",
                  scale_table(rows["scale_procs"], "processes")]
    if rows.get("pagemap") and len(rows["pagemap"][0]) == 4:
        # An earlier run's single row: ratio, scan ms, pagemap ms, MiB.
        r = rows["pagemap"][0]
        parts += [f"Scan of {r[3]} MiB through the family / read of /proc/PID/pagemap for "
                  f"the same range: **{r[0]}** ({r[1]} ms vs {r[2]} ms, medians)"]
    elif rows.get("pagemap"):
        parts += pagemap_section(rows["pagemap"])
    return "\n\n".join(parts) + "\n"


def pagemap_section(rs):
    """The scan against /proc/PID/pagemap (kmod_bench): heading, text, table."""
    body = []
    have_ps = any(len(r) > 12 and r[12] for r in rs)
    for r in rs:
        r = r + [""] * 15
        ps = [f"{r[13]} ({r[14]}), {r[12]} ms" if r[12] else "-"] if have_ps else []
        if r[0] == "accessed-sampled":
            # Hot sampling: means over passes, no without-pre-check run.
            body.append(["accessed, hot sampling (means)", f"{r[1]} ({r[5]})", "-", "-",
                         f"{r[2]} / {r[3]}", f"{r[10]} / {r[11]} unread as hot"] + ps)
            continue
        body.append([r[0], f"{r[1]} ({r[5]})", f"{r[6]} ({r[7]})", f"{r[8]} ({r[9]})",
                     f"{r[2]} / {r[3]}", f"{r[10]} / {r[11]}"] + ps)
    mib = rs[0][4] if len(rs[0]) > 4 else "?"
    return [f"### Scan of {mib} MiB of 4 KiB pages against reading /proc/PID/pagemap\n\n"
            "Medians of interleaved runs, each run's own ratio in brackets. "
            "\"Pre-check\": PTE tables whose PMD accessed bit stayed clear are reported "
            "from their last read (kmod/scan_dump.c); the scan without it reads a twin "
            "mapping in the same state, so that its full reads do not refresh the "
            "records (tables read / skipped: the scans with it). \"Hot sampling\" is the scan "
            "slide asks for: a table found all accessed in 4 reads is read every other "
            "pass, its pages reported recently accessed in between; its row gives means "
            "over all passes, the spread over pairs of passes."
            + (" PAGEMAP_SCAN (6.7 on) is a reference: the ioctl walks the same range "
               "for present pages and returns ranges; it reads no accessed bit."
               if have_ps else ""),
            table(["state", "scan / pagemap", "without pre-check / pagemap",
                   "with / without pre-check", "scan ms / pagemap ms",
                   "tables read / skipped per scan"]
                  + (["scan / PAGEMAP_SCAN"] if have_ps else []), body)]


def ratio_spread(values, digits=2):
    """'median (min..max)' with more digits, for ratios."""
    vals = [v for v in values if v is not None]
    if not vals:
        return "n/a"
    return (f"{statistics.median(vals):.{digits}f} "
            f"({min(vals):.{digits}f}..{max(vals):.{digits}f})")


def paired(rs, a, b, col):
    """Per repetition, value of @a / value of @b (rows: name, rep, ...)."""
    va = {r[1]: num(r[col]) for r in rs if r[0] == a}
    vb = {r[1]: num(r[col]) for r in rs if r[0] == b}
    return [va[k] / vb[k] for k in va if va[k] is not None and vb.get(k)]


WORKLOADS = {
    "interleaved": "hot pages interleaved in the cold set: the hot thread also reads every "
                   "64th cold page (8 in every 2 MiB; `--hot-stride 64`), so at most 98.4% of "
                   "the cold set can go",
    "moving": "a hot set that moves: the hot thread reads a window of the hot size moving "
              "1 MiB every 625 ms through four times that (`--move-mib`); hot figures count "
              "the whole moving region",
    "thp": "a THP-backed heap (`--thp`: MADV_HUGEPAGE, 2 MiB aligned)",
}


def render_workloads(rows):
    """The workloads experiment's block (bench/vm/workloads.sh), or ''."""
    names = [w for w in WORKLOADS if rows.get(f"wl_{w}_quality")]
    if not names:
        return ""
    meta, kinfo = meta_of(rows, "wl_meta"), meta_of(rows, "workloads_meta")
    parts = ["### Reclaim quality on harder workloads",
             f"Kernel {kinfo.get('kernel', '?')}, one boot (bench/run --only workloads): the "
             f"quality experiment ({meta.get('cold_mib', '?')} MiB cold, "
             f"{meta.get('hot_mib', '?')} MiB hot, {meta.get('seconds', '?')} s per run, "
             f"{meta.get('reps', '?')} runs each, interleaved; median, then min..max) on "
             "workloads that a monitor of whole regions finds harder. Measured under QEMU "
             "emulation: only ratios mean anything. Issue 16's targets against DAMOS: memory "
             "saved at least DAMOS's, major faults (refaults) at most 1/10 of DAMOS's, "
             "throughput at least DAMOS's. "
             + clock_text(kinfo).replace("The slowdown is", "Throughput is").rstrip()]
    warm = meta.get("warm_out_permille", "-")
    if warm not in ("-", ""):
        parts[-1] += (f" Each run with a reclaimer first waited until {num(warm) / 10:g}% of "
                      f"the cold set was out (at most {meta.get('warm_max_s', '?')} s; "
                      "`BENCH_WL_WARM_OUT`), and every figure is of the "
                      f"{meta.get('seconds', '?')} s after that: the steady state, not the "
                      "page-out. *none* is measured from its start.")
    for w in names:
        q = rows[f"wl_{w}_quality"]
        parts += [f"#### {w}: {WORKLOADS[w]}", quality_table(q, meta.get("cold_mib"))]
        if rows.get(f"wl_{w}_cost"):
            parts.append(cost_table(rows[f"wl_{w}_cost"]))
        ok = [r for r in q if r[6] == "ok"]
        faults = paired(ok, "etmem", "damos", 4)
        saved = paired(ok, "etmem", "damos", 2)
        lines = []
        if saved:
            lines.append(f"- cold reclaimed, etmem / DAMOS: {ratio_spread(saved)}")
        fd = {r[1]: num(r[4]) for r in ok if r[0] == "damos"}
        fe = {r[1]: num(r[4]) for r in ok if r[0] == "etmem"}
        if fd and fe:
            pairs = [f"{fe[k]:.0f} vs {fd[k]:.0f}" for k in sorted(fe) if k in fd]
            lines.append("- major faults, etmem vs DAMOS per repetition: " + ", ".join(pairs)
                         + (f" (ratio {ratio_spread(faults, 3)})" if faults else ""))
        none = [r for r in ok if r[0] == "none"]
        tp = {n: vs_none([r for r in ok if r[0] == n], none, 5) for n in ("etmem", "damos")}
        if tp["etmem"] and tp["damos"]:
            te, td = [v for v in tp["etmem"] if v is not None], \
                [v for v in tp["damos"] if v is not None]
            verdict = ""
            if te and td:
                verdict = ("; spreads apart, etmem higher" if min(te) > max(td) else
                           "; spreads apart, DAMOS higher" if min(td) > max(te) else
                           "; the spreads overlap: no ranking")
            lines.append(f"- throughput % of none: etmem {spread(tp['etmem'])}, "
                         f"DAMOS {spread(tp['damos'])}{verdict}")
        for n, label in (("etmem", "etmem"), ("damos", "DAMOS")):
            ws = [r for r in rows.get(f"wl_{w}_warm", []) if r[0] == n]
            if ws:
                lines.append(f"- warm-up s, {label}: {spread(r[2] for r in ws)}; "
                             f"the share reached in {sum(r[3] == 'yes' for r in ws)} of "
                             f"{len(ws)} runs")
        if lines:
            parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def render_costs(rows):
    """The costs experiment's block (bench/vm/costs.sh), or ''."""
    if not (rows.get("steady") or rows.get("pageout") or rows.get("costs_pagemap") or
            rows.get("countcost")):
        return ""
    info = meta_of(rows, "costs_meta")
    parts = ["### What monitoring and page-out cost",
             f"Kernel {info.get('kernel', '?')} (bench/run --only costs). Every table's "
             "rows come from one boot; a table rerun alone may come from a later boot than "
             "the others. Measured under QEMU emulation: only the ratios between rows of one "
             "table mean anything."]
    st = rows.get("steady", [])
    if st:
        r0 = next((r for r in st if r[-1] == "ok"), st[0]) + [""] * 10
        body, names = [], []
        for r in st:
            if r[0] not in names:
                names.append(r[0])
        for name in names:
            rs = [r for r in st if r[0] == name and r[-1] == "ok"]
            if not rs:
                body.append([name, "n/a", "n/a", "n/a", "n/a", "unavailable", 0])
                continue
            per_s = [num(r[2]) / num(r[3]) for r in rs if num(r[2]) is not None and num(r[3])]
            body.append([name, spread(per_s), spread(r[6] for r in rs), spread(r[7] for r in rs),
                         spread(r[5] for r in rs), "ok", len(rs)])
        # Only verified runs that reached the steady state (no '+').
        good = [r for r in st if r[-1] == "ok" and not r[5].endswith("+")]
        # The share out before the window (bench.sh's s_out_permille);
        # runs from before that setting waited for 95%.
        so = rows.get("steady_out", [])
        out_pct = f"{num(so[0][1]) / 10:g}%" if so and len(so[0]) > 1 and num(so[0][1]) else "95%"

        etm = [r for r in good if r[0] == "etmem"]
        lines = []
        unsteady = [f"{r[0]} rep {r[1]}" for r in st if r[-1] == "ok" and r[5].endswith("+")]
        if unsteady:
            lines.append(f"- runs that did not reach {out_pct} within the warm-up (left out of the "
                         "ratios): " + ", ".join(unsteady))
        for other, what in (("damos", "DAMOS at DAMON's default intervals (5 ms / 100 ms)"),
                            ("damoscheap", "DAMOS at 50 ms / 1 s")):
            ratios = paired(good, "etmem", other, 2)
            if etm and ratios:
                lines.append(f"- etmemd / kdamond, {what}: **{ratio_spread(ratios, 3)}** "
                             "(per repetition, median (min..max))")
        hot3 = paired(good, "etmemhot3", "etmem", 2)
        if hot3:
            lines.append("- etmem with hot tables left unread up to 3 passes in a row "
                         "(`hot_skip_max_passes=3`) / etmem at the default (1): "
                         f"**{ratio_spread(hot3, 3)}**; against kdamond at the default "
                         f"intervals: **{ratio_spread(paired(good, 'etmemhot3', 'damos', 2), 3)}**")
        quiet = paired(good, "etmemquiet", "etmem", 2)
        if quiet:
            lines.append("- etmem with `sleep_max=16` (the sleep doubles after cycles that "
                         "find nothing to do, up to 16 s) / etmem with `sleep=1` alone: "
                         f"**{ratio_spread(quiet, 3)}**; against kdamond at the default "
                         f"intervals: **{ratio_spread(paired(good, 'etmemquiet', 'damos', 2), 3)}**")
        # damonstat: kdamond's monitoring alone (no page-out in the window).
        for mine in ("etmem", "etmemquiet"):
            mon = paired(good, mine, "damonstat", 2)
            if mon:
                lines.append(f"- {mine} / kdamond monitoring alone at the default intervals "
                             f"(damonstat: the scheme's action `stat` in the window): "
                             f"**{ratio_spread(mon, 3)}**")
        if paired(good, "damos", "damonstat", 2):
            lines.append("- kdamond with DAMOS paging out / monitoring alone: "
                         f"{ratio_spread(paired(good, 'damos', 'damonstat', 2), 3)}")
        # A steady table from a boot of its own (bench/run --only steady)
        # replaces the costs boot's; the costs boot's comparison with the
        # cheaper DAMOS setting stays, as steady_costs rows, from its boot.
        earlier = [r for r in rows.get("steady_costs", [])
                   if r[-1] == "ok" and not r[5].endswith("+")]
        cheap = paired(earlier, "etmem", "damoscheap", 2)
        if cheap and not paired(good, "etmem", "damoscheap", 2):
            n = len({r[1] for r in earlier})
            lines.append("- etmemd / kdamond, DAMOS at 50 ms / 1 s, from the costs boot "
                         f"({n} repetitions; not rerun with this table): "
                         f"**{ratio_spread(cheap, 3)}**; in that boot against the default "
                         f"intervals: {ratio_spread(paired(earlier, 'etmem', 'damos', 2), 3)}")
        split = [r for r in rows.get("steady_split", []) if r[0] == "etmem"]
        if split:
            pairs = [(num(r[2]), num(r[3])) for r in split
                     if num(r[2]) is not None and num(r[3]) is not None]
            user = [u for u, _ in pairs]
            kern = [k for _, k in pairs]
            shares = [100 * u / (u + k) for u, k in pairs if u + k]
            if shares:
                lines.append("- etmemd's CPU in the window, user space (slide's bookkeeping) "
                             f"against kernel (the scans, page-out): user **{spread(shares)}%** "
                             f"of it; user {spread(user)} ms, kernel {spread(kern)} ms per window")
        parts += [f"#### Monitoring CPU in steady state\n\n"
                  f"hotcold with {r0[4] if r0[4] else '?'} MiB managed "
                  "(the cold set written once, a hot set read without pause); each reclaimer "
                  f"runs until >= {out_pct} of the cold set is out (at most "
                  "a bounded warm-up), then its CPU is measured over a window while nothing "
                  "but the hot set is touched: etmemd's process (its kernel scans run in its "
                  "threads) or kdamond. etmem is slide with `loop=2 interval=1 sleep=1 T=1`; "
                  "DAMOS pages out regions with no access for 2 s. Interleaved repetitions. "
                  "In runs from commit df9c96e on, CPU times come from the processes' CPU "
                  "clocks (ns; before, /proc ticks of 10 ms) and etmemquiet's window starts "
                  "once its sleep is at sleep_max (its warm-up includes that ramp).",
                  table(["reclaimer", "CPU ms per s", "cold reclaimed % at the end",
                         "workload major faults in the window", "warm-up s", "data", "runs"],
                        body)]
        if lines:
            parts.append("\n".join(lines))
    po = rows.get("pageout", [])
    if po:
        body = []
        for name in ("etmem", "madvise"):
            rs = [r for r in po if r[0] == name]
            if rs:
                body.append([name, ratio_spread([num(r[4]) for r in rs], 3),
                             spread(r[2] for r in rs), spread(r[3] for r in rs), len(rs)])
        verify = rows.get("pageout_verify", [["?"]])[0][0]
        parts += ["#### Page-out CPU per MiB\n\n"
                  "bench/pageoutcost: a child's pages are read back in, scanned once (not "
                  "timed: the monitoring cost, which MADV_PAGEOUT alone does not have), then "
                  "paged out by etmem (all of slide's page-out: ETMEM_CMD_SWAP's check of every "
                  "page, process_madvise(MADV_PAGEOUT) of the approved ranges, and its count "
                  "of what really went, a read of /proc/PID/pagemap over them) or by "
                  "process_madvise(MADV_PAGEOUT) of the whole range alone, in alternating "
                  "order after an untimed round of each; CPU of the calling thread (reclaim, "
                  "zram's compression included, runs there) per MiB that left the child's "
                  f"resident set (mincore). Every page checked afterwards: {verify}.",
                  table(["method", "CPU ms per MiB", "MiB out", "CPU ms", "runs"], body),
                  f"- etmem / MADV_PAGEOUT alone: **"
                  f"{ratio_spread(paired(po, 'etmem', 'madvise', 4), 3)}** "
                  "(per repetition, median (min..max))"]
    cc = rows.get("countcost", [])
    if cc:
        body, ratios = [], []
        for layout in dict.fromkeys(r[0] for r in cc):
            rs = [r for r in cc if r[0] == layout]
            st = {r[1]: num(r[3]) for r in rs if r[2] == "states"}
            ru = {r[1]: num(r[3]) for r in rs if r[2] == "runs"}
            per = [ru[k] / st[k] for k in ru if ru[k] is not None and st.get(k)]
            body.append([layout, ratio_spread(list(st.values()), 2),
                         ratio_spread(list(ru.values()), 2),
                         ratio_spread(per, 2),
                         max((r[4] for r in rs if r[2] == "runs"), key=lambda x: num(x) or 0),
                         len(per)])
        parts += ["#### slide's page counting per cycle: per-page against run-length replies\n\n"
                  "bench/countcost: slide's user-space bookkeeping (etmemd/engine/pagecount.c) "
                  "for one cycle with `loop=2` and idle ages over 512 MiB of 4 KiB pages (two "
                  "passes of replies, then the cold ranges; one page_counts per form kept across "
                  "cycles, as slide keeps one per process), fed the same replies once page by "
                  "page (2 bits and an age byte a page) and once as the module sends them with "
                  "`ETMEM_SCAN_FLAGS_RUNS` (runs where shorter), alternating, CPU time. "
                  "Layouts: *steady* is the steady state above (448 MiB swapped out, 64 MiB "
                  "hot), *interleaved* one hot page in every 64, *alternating* every other page "
                  "hot (no chunk pays as runs: both forms are the same replies).",
                  table(["layout", "states ms", "runs ms", "runs / states", "chunks as runs (of 64)",
                         "runs"], body)]
    if rows.get("costs_pagemap"):
        parts += pagemap_section(rows["costs_pagemap"])
    return "\n\n".join(parts) + "\n"


def render_damon(rows):
    """The damon experiment's section, or '' without its rows: etmemd's damon
    engine against DAMOS set up by hand with the same settings."""
    if not rows.get("damon_quality"):
        return ""
    info = meta_of(rows, "damon_meta")
    parts = ["### etmemd's damon engine against DAMOS by hand",
             f"Kernel {info.get('kernel', '?')}, one boot: the reclaim-quality workload "
             f"({info.get('cold_mib', '?')} MiB cold + {info.get('hot_mib', '?')} MiB hot, "
             f"{info.get('seconds', '?')} s per run, {info.get('reps', '?')} runs each, "
             "interleaved; median, then min..max). Both page out regions with no access "
             "for 2 s (sample 5 ms, aggregate 100 ms, 10..1000 regions): *damos* writes "
             "DAMON's sysfs files itself, *damon* is etmemd's damon engine with the same keys. "
             "The damon cost row is kdamond's CPU plus etmemd's; *damon-etmemd* is etmemd's "
             "own share of it. Measured under QEMU emulation: only ratios mean anything.",
             quality_table(rows["damon_quality"], info.get("cold_mib"))]
    if rows.get("damon_cost"):
        parts.append(cost_table(rows["damon_cost"]))
    return "\n\n".join(parts) + "\n"


def settle_text(meta):
    """How budget mode's warm-up was extended, from the budget_meta row."""
    if "settle_max_s" not in meta:
        return ""
    return (f" (budget mode: on until the controller's state, age, bound and probe, has "
            f"not changed for {meta.get('settle_cycles', '?')} cycles"
            + (" (or past its next try, if that comes later)" if meta.get("settle_past_try") else "")
            + (" with no step waiting for its judgement" if meta.get("settle_judged") else "")
            + ", at most "
            f"{meta['settle_max_s']} s in all; the *warm-up s* column gives the time "
            "and in how many runs it settled)")


def icount(meta):
    """QEMU's instruction-clock shift N of a meta row, or None (host clock)."""
    shift = meta.get("icount_shift", "-")
    return int(shift) if shift.isdigit() else None


def clock_text(meta):
    """What the guest's time was: the host's, or QEMU's instruction count."""
    n = icount(meta)
    if n is None:
        return ""
    return (f"Time in the guest is QEMU's instruction count (`bench/run --icount {n}`, "
            f"`-icount shift={n}`): every guest instruction is {2 ** n} ns, on either "
            "vCPU, and both vCPUs take turns on one clock, so a busy host makes the boot "
            "longer but does not change what the guest measures. The slowdown is then that "
            f"of one core of {1000 / 2 ** n:g} million instructions per second: the "
            "workload's refaults and the reclaimer's own instructions (etmemd or kdamond, "
            "although on the other vCPU) count in full, while cache misses, TLB misses and "
            "page-table walks cost nothing, so it compares reclaimers with each other, "
            "not with hardware or the host-clock tables (docs/bench.md). ")


def render_budget(rows):
    """The budget experiment's section, or '' without its rows."""
    parts = []
    if rows.get("budget"):
        b = meta_of(rows, "budget_meta")
        parts += ["### Memory saved against slowdown (budget mode)",
                  f"Kernel {b.get('kernel', '?')}, one boot: {b.get('cold_mib', '?')} MiB "
                  f"written once and a hot window of {b.get('hot_mib', '?')} MiB moving 1 MiB "
                  f"every {b.get('move_every_ms', '?')} ms through {b.get('move_mib', '?')} MiB "
                  "(`hotcold --move-mib`: pages cool down and heat up again), in the "
                  "benchmark cgroup with zram swap. Each configuration is warmed up "
                  f"{b.get('warm_s', '?')} s{settle_text(b)}, then measured over {b.get('window_s', '?')} s, "
                  f"{b.get('reps', '?')} run(s) each, interleaved. *Memory saved*: the "
                  "workload's resident memory (mincore of its cold set and moving region, "
                  "mean over the window) below that of the none run of the same repetition; "
                  "*slowdown*: the hot thread's passes per second below none's (negative: "
                  "faster, i.e. noise); *none again* is the baseline run once more at the end "
                  "of each repetition, so its slowdown is the measurement's own drift. "
                  + (f"The workload runs on CPU {b['workload_cpu']} and the reclaimers "
                     "(etmemd, kdamond) on the others, so that they do not compete for the "
                     "workload's vCPU; the slowdown still holds what monitoring does to the "
                     "workload besides refaults and stalls: accessed bits cleared in its page "
                     "tables and its TLB flushed (under QEMU's emulation a flush for another "
                     "vCPU stops every vCPU). "
                     if b.get("workload_cpu", "any") != "any" and icount(b) is None else "")
                  + clock_text(b)
                  + (CPU_TEXT if any(len(r) > 11 for r in rows["budget"]) else "")
                  + "Major faults/s are the workload's; the stall is the "
                  "cgroup's PSI some. Settings: slide T1 is `loop=2 interval=1 sleep=1 T=1`, "
                  "+ageN adds `idle_age=N`; DAMOS pages out regions idle for 2 s with its "
                  "quota tuned against a goal of system-wide some memory PSI (% of time); "
                  "psi is etmemd's psi engine (memory.reclaim while the cgroup's stall is "
                  "under the target); budget mode is slide with `majflt_budget` (faults/s) "
                  "or `stall_budget_us` (% of time) instead of T.",
                  budget_table(rows["budget"]),
                  "Read the plot (`budget.png`) from the top left: more memory saved for "
                  "less slowdown is better; a reclaimer family whose points lie above and "
                  "left of another's does better at every slowdown. The issue's goal: at "
                  "the same slowdown (for example 1% and 5% of throughput) budget mode saves "
                  "at least as much memory as each of the others, and it meets its own "
                  "budget within 20% in steady state. "
                  + ("With the instruction clock the host's load no longer reaches "
                     "the figures (*none again* against *none*); what is left is how "
                     "much runs of one configuration differ, the spreads in brackets. "
                     if icount(b) is not None else
                     "Under QEMU the hot thread's rate "
                     "moves by several percent between runs of one configuration (the spread "
                     "of the quality table's throughput), so slowdowns of 1% and 5% are "
                     "within the noise here, and with few runs the comparison below is "
                     "indicative only. ")
                  + "Against the medians above:\n\n"
                  + budget_verdict(rows["budget"])]
        cpus = cpus_table(rows.get("budget_cpus", []), rows["budget"])
        if cpus:
            parts += [CPUS_TEXT, cpus]
    return "\n\n".join(parts) + "\n" if parts else ""


def render_budget_redis(rows):
    """The budget experiment on redis, or '' without its rows."""
    if not rows.get("budgetredis"):
        return ""
    b = meta_of(rows, "budgetredis_meta")
    return "\n\n".join([
        "### Memory saved against slowdown on redis (budget mode)",
        f"Kernel {b.get('kernel', '?')}, one boot: redis-server with {b.get('redis_keys', '?')} "
        "keys of 1 KiB loaded, then `redis-benchmark -t get` with "
        f"{b.get('clients', '?')} clients GETting only the first {b.get('redis_hot', '?')} keys "
        "(`-r`) for the whole run, server and clients in the benchmark cgroup with zram "
        f"swap. Each configuration is warmed up {b.get('warm_s', '?')} s{settle_text(b)}, then "
        f"measured over {b.get('window_s', '?')} s, {b.get('reps', '?')} run(s) each, "
        "interleaved. *Memory saved*: redis-server's RSS (mean of one sample a second) below "
        "that of the none run of the same repetition; *slowdown*: GETs per second (INFO's "
        "keyspace_hits) below none's; *none again* measures the drift. "
        + (f"Server and clients run on CPU {b['workload_cpu']}, the reclaimers on the "
           "others. " if b.get("workload_cpu", "any") != "any" else "")
        + clock_text(b).replace("the workload's refaults", "redis's refaults")
        + (CPU_TEXT if any(len(r) > 11 for r in rows["budgetredis"]) else "")
        + "Major faults/s are redis-server's; the stall is the cgroup's PSI some; the "
        "*data* column says whether 16 keys spread over the data set (cold ones included) "
        "read back as loaded at the end. Settings as in the table above.",
        budget_table(rows["budgetredis"]),
        "The plot: `budgetredis.png`. Against the medians above, with the same goal as on "
        "the moving hot set:\n\n" + budget_verdict(rows["budgetredis"])]
        + ([CPUS_TEXT, cpus_table(rows.get("budgetredis_cpus", []), rows["budgetredis"])]
           if cpus_table(rows.get("budgetredis_cpus", []), rows["budgetredis"]) else [])) + "\n"


def replace_block(content, begin, end, text):
    """content with the text between the markers begin and end replaced;
    a block not there yet goes after the benchmark section."""
    if begin not in content or end not in content:
        if END not in content:
            return content
        head, tail = content.split(END, 1)
        return head + END + "\n\n" + begin + "\n" + text + end + tail
    head, rest = content.split(begin, 1)
    _, tail = rest.split(end, 1)
    return head + begin + "\n" + text + end + tail


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    log, outdir = args[0], args[1]
    os.makedirs(outdir, exist_ok=True)
    rows = read_rows(log.split(","))
    write_csvs(rows, outdir)
    text, budget_text, damon_text = render(rows), render_budget(rows), render_damon(rows)
    bredis_text = render_budget_redis(rows)
    costs_text, wl_text = render_costs(rows), render_workloads(rows)
    with open(os.path.join(outdir, "tables.md"), "w") as f:
        f.write(text + ("\n" + budget_text if budget_text else "") +
                ("\n" + bredis_text if bredis_text else "") +
                ("\n" + damon_text if damon_text else "") +
                ("\n" + costs_text if costs_text else "") +
                ("\n" + wl_text if wl_text else ""))
    pngs = plot(rows, outdir)
    print(text + budget_text + bredis_text + damon_text + costs_text + wl_text)
    only = [o for o in ("--readme-budget-only", "--readme-damon-only", "--readme-costs-only",
                        "--readme-workloads-only") if o in argv]
    if "--readme" in argv:
        # --readme-budget-only: a boot of budget alone refreshes only its block.
        readme = argv[argv.index("--readme") + 1]
        with open(readme) as f:
            content = f.read()
        rel = os.path.relpath(outdir, os.path.dirname(os.path.abspath(readme)))
        if BEGIN in content and END in content and not only:
            pics = "".join(f"\n![{p}]({rel}/{p})\n" for p in pngs
                           if p not in ("budget.png", "budgetredis.png"))
            head, rest = content.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            content = head + BEGIN + "\n" + text + pics + END + tail
        if budget_text and (not only or "--readme-budget-only" in only):
            pic = f"\n![budget.png]({rel}/budget.png)\n" if "budget.png" in pngs else ""
            content = replace_block(content, BUDGET_BEGIN, BUDGET_END, budget_text + pic)
        if bredis_text and (not only or "--readme-budget-only" in only):
            pic = (f"\n![budgetredis.png]({rel}/budgetredis.png)\n"
                   if "budgetredis.png" in pngs else "")
            if BREDIS_BEGIN not in content and BUDGET_END in content:
                # The redis block goes right after the moving hot set's.
                content = content.replace(BUDGET_END, BUDGET_END + "\n\n" + BREDIS_BEGIN + "\n"
                                          + BREDIS_END, 1)
            content = replace_block(content, BREDIS_BEGIN, BREDIS_END, bredis_text + pic)
        if damon_text and (not only or "--readme-damon-only" in only):
            content = replace_block(content, DAMON_BEGIN, DAMON_END, damon_text)
        if costs_text and (not only or "--readme-costs-only" in only):
            content = replace_block(content, COSTS_BEGIN, COSTS_END, costs_text)
        if wl_text and (not only or "--readme-workloads-only" in only):
            content = replace_block(content, WL_BEGIN, WL_END, wl_text)
        with open(readme, "w") as f:
            f.write(content)
    if "--check-workloads" in argv:
        problems = []
        for w in rows.get("wl_meta", [["list", ""]])[0][1].split():
            q = rows.get(f"wl_{w}_quality", [])
            if not any(r[0] == "etmem" and r[6] == "ok" for r in q):
                problems.append(f"{w}: no etmem run that verified")
            problems += [f"{w} {r[0]} rep {r[1]}: data {r[6]}" for r in q
                         if r[6] not in ("ok", "unavailable")]
        problems += [f"thp {r[0]} rep {r[1]}: no THP ({r[2]} kB AnonHugePages)"
                     for r in rows.get("wl_thp_thp", []) if not num(r[2])]
        # With a warm-up (BENCH_WL_WARM_OUT), each reclaimer's run says
        # how long it took and whether the share was reached.
        if meta_of(rows, "wl_meta").get("warm_out_permille", "-") not in ("-", ""):
            for w in meta_of(rows, "wl_meta").get("list", "").split():
                warm = {(r[0], r[1]): r for r in rows.get(f"wl_{w}_warm", [])}
                for r in rows.get(f"wl_{w}_quality", []):
                    x = warm.get((r[0], r[1]))
                    if r[6] != "unavailable" and (not x or num(x[2]) is None or
                                                  x[3] not in ("yes", "no", "-")):
                        problems.append(f"{w} {r[0]} rep {r[1]}: warm-up not recorded")
        if "thp" in meta_of(rows, "wl_meta").get("list", "").split() and \
                not rows.get("wl_thp_thp"):
            problems.append("thp: AnonHugePages not recorded")
        if not rows.get("wl_meta") or problems:
            print(f"report: workloads: {problems or 'no rows'}", file=sys.stderr)
            return 1
    if "--check-costs" in argv:
        # A costs boot (bench/vm/costs.sh): each of its parts produced rows.
        problems = []
        steady = rows.get("steady", [])
        if not any(r[0] == "etmem" and r[-1] == "ok" for r in steady):
            problems.append("no steady etmem run that verified")
        problems += [f"steady {r[0]} rep {r[1]}: data {r[-1]}" for r in steady
                     if r[-1] not in ("ok", "unavailable")]
        mib = num(meta_of(rows, "pageout_meta").get("mib"))
        for method in ("etmem", "madvise"):
            if not any(r[0] == method for r in rows.get("pageout", [])):
                problems.append(f"no page-out by {method}")
        # Every round must have paged out (nearly) the whole range.
        problems += [f"page-out {r[0]} rep {r[1]}: {r[2]} MiB of {mib}"
                     for r in rows.get("pageout", []) if not mib or (num(r[2]) or 0) < 0.95 * mib]
        if rows.get("pageout_verify", [["missing"]])[0][0] != "ok":
            problems.append("page-out data not verified")
        layouts = {r[0] for r in rows.get("countcost", []) if r[2] == "runs"}
        problems += [f"no countcost rows for {l}" for l in
                     ("steady", "interleaved", "alternating") if l not in layouts]
        states = {r[0] for r in rows.get("costs_pagemap", [])}
        problems += [f"no pagemap row {s}" for s in
                     ("idle", "accessed", "accessed-sampled", "absent") if s not in states]
        if problems:
            print(f"report: costs: {problems}", file=sys.stderr)
            return 1
    if "--check" in argv:
        # Each experiment the run was asked for (meta's "only"; all of them
        # in logs from before it was recorded) produced its rows.
        rows_of = {"quality": ("quality", "curve", "cost"), "redis": ("redis",),
                   "scale": ("scale_mem", "scale_procs"), "pagemap": ("pagemap",),
                   "budget": ("budget_meta", "budget"),
                   "budgetredis": ("budgetredis_meta", "budgetredis"), "cost": ()}
        # (read_rows() keeps a log's meta only with quality or redis rows:
        # a run asked for neither has none, and then needs all of them.)
        asked = meta_of(rows, "meta").get("only", "").split() or list(rows_of)
        missing = [e for e in ["meta", "done"] + [r for x in asked for r in rows_of.get(x, ())]
                   if not rows.get(e)]
        bad = [r for r in rows.get("quality", []) if r[6] not in ("ok", "unavailable")]
        bad += [r for r in rows.get("budget", []) if r[5] not in ("ok", "unavailable")]
        # Budget mode's runs say how long they warmed up and whether the
        # controller settled (yes or no: a run that did not is reported, not
        # failed); the others warmed up the fixed time (-).
        bad += [r for r in rows.get("budget", []) if r[5] != "unavailable" and (
            len(r) < 11 or num(r[9]) is None or (len(r) > 11 and num(r[11]) is None) or
            r[10] not in (("yes", "no") if r[0].startswith("budget:") else ("-",)))]
        # Every configuration of every repetition produced its row.
        meta = meta_of(rows, "budget_meta")
        seen = collections.Counter(r[0] for r in rows.get("budget", []))
        # The configurations the run was asked for (budget_meta's
        # "configs"; logs from before it: none and every fixed T).
        want = meta.get("configs", "").split() or \
            ["none", "slide:T1", "slide:T1+age4", "slide:T1+age16"]
        for family in ("damos", "psi", "budget") if "budget" in asked else ():
            if not any(c.startswith(family + ":") for c in seen):
                missing.append(f"budget {family}")
        for config in (want if "budget" in asked else []) + [c for c in seen if c not in want]:
            if seen[config] != int(meta.get("reps", 1)):
                missing.append(f"budget {config}: {seen[config]} runs")
        # The redis runs: every configuration asked, each repetition, its
        # data read back, the warm-up recorded as above.
        rmeta = meta_of(rows, "budgetredis_meta")
        rseen = collections.Counter(r[0] for r in rows.get("budgetredis", []))
        if "budgetredis" in asked:
            for config in rmeta.get("configs", "").split():
                if rseen[config] != int(rmeta.get("reps", 1)):
                    missing.append(f"budgetredis {config}: {rseen[config]} runs")
        bad += [r for r in rows.get("budgetredis", []) if r[5] != "unavailable" and (
            r[5] != "ok" or len(r) < 11 or num(r[9]) is None or
            (len(r) > 11 and num(r[11]) is None) or r[10] not in (("yes", "no") if r[0].startswith("budget:") else ("-",)))]
        # Where each window's CPU went: every CPU's share and the
        # workload's, which is busy in every run.
        for exp in ("budget", "budgetredis"):
            cpus = {(r[0], r[1]): dict(f.split("=", 1) for f in r[2:] if "=" in f)
                    for r in rows.get(f"{exp}_cpus", [])}
            for r in rows.get(exp, []):
                if r[5] == "unavailable":
                    continue
                got = cpus.get((r[0], r[1]), {})
                if not (num(got.get("cpu0")) is not None and (num(got.get("workload")) or 0) > 0):
                    bad.append([f"{exp}_cpus", r[0], r[1], str(got or "missing")])
        if missing or bad:
            print(f"report: missing experiments {missing}, bad runs {bad}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
