"""Turns bench-out/results.jsonl into the table on stdout and the chart in docs/.

    python bench/report.py bench-out/results.jsonl docs/bench.svg
"""
import json
import os
import platform
import statistics
import sys
from collections import defaultdict


def load(path):
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                runs[r["scenario"]].append(r)
    return runs


def med(values):
    return statistics.median(values) if values else None


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}"


def per_round(rs, ceilings, key):
    """The ratio to the ceiling in each round (each against the ceiling run just before it),
    as a label's tail: how much the host drifted between rounds."""
    tps = {r["rep"]: r["tps"] for r in ceilings if r.get("tps")}
    ratios = [r["wrk"][key] / r["wrk"]["seconds"] / tps[r["rep"]] for r in sorted(rs, key=lambda r: r["rep"])
              if r["rep"] in tps]
    return f"; x ceiling per round: {', '.join(f'{x:.2f}' for x in ratios)}" if ratios else ""


def rows(runs):
    """(label, value, unit, ratio, p50, p99, goal, met, n)"""
    out = []
    ceiling = {c: med([r["tps"] for r in runs.get(f"ceiling_c{c}", [])]) for c in (16, 64)}
    for c in (16, 64):
        rs = runs.get(f"ceiling_c{c}", [])
        if rs:
            out.append((f"ceiling: pgbench, one-statement hold, {c} clients", ceiling[c], "tx/s", 1.0,
                        med([r["p50_ms"] for r in rs]), med([r["p99_ms"] for r in rs]), "", None, len(rs)))

    def wrk_rate(rs, key):
        return med([r["wrk"][key] / r["wrk"]["seconds"] for r in rs])

    for scen, label, key, c, goal in [
        ("http_holds_c16", "HTTP holds, distinct seats, 16 connections", "ok", 16, 1.0),
        ("http_holds_c64", "HTTP holds, distinct seats, 64 connections", "ok", 64, 1.5),
        ("http_hold_book_c16", "HTTP hold-then-book cycles, 16 connections", "booked", 16, None),
    ]:
        rs = runs.get(scen, [])
        if not rs:
            continue
        v = wrk_rate(rs, key)
        ratio = v / ceiling[c] if ceiling.get(c) else None
        bad = sum(r["wrk"]["other"] + r["wrk"]["errors"] for r in rs)
        if goal:
            label += per_round(rs, runs.get(f"ceiling_c{c}", []), key)
        out.append((label + (f" ({bad} failed requests)" if bad else ""), v, "/s", ratio,
                    med([r["wrk"]["p50_ms"] for r in rs]), med([r["wrk"]["p99_ms"] for r in rs]),
                    f">= {goal} x ceiling" if goal else "", (ratio >= goal) if goal and ratio else None,
                    len(rs)))
    for c, goal in ((1, "p50 <= 5 ms"), (16, ">= 1000 holds/s")):
        rs = runs.get(f"http_best4_c{c}", [])
        if not rs:
            continue
        v = wrk_rate(rs, "ok")
        p50 = med([r["wrk"]["p50_ms"] for r in rs])
        bad = sum(r["wrk"]["other"] + r["wrk"]["errors"] for r in rs)
        taken = med([r["taken"] for r in rs]) * 100
        met = p50 <= 5 if c == 1 else v >= 1000
        out.append((f"HTTP best-available 4 of 20,000 seats ({taken:.0f} % taken), each then released, "
                    f"{c} connection{'s' if c > 1 else ''}" + (f" ({bad} failed requests)" if bad else ""),
                    v, "holds/s", None, p50, med([r["wrk"]["p99_ms"] for r in rs]), goal, bad == 0 and met,
                    len(rs)))
    for c in (1, 16):
        rs = runs.get(f"http_status300_c{c}", [])
        if rs:
            bad = sum(r["wrk"]["other"] + r["wrk"]["errors"] for r in rs)
            out.append((f"HTTP status of a 300-seat show (100 held), polled over keep-alive, "
                        f"{c} connection{'s' if c > 1 else ''}" + (f" ({bad} failed requests)" if bad else ""),
                        wrk_rate(rs, "ok"), "reads/s", None, med([r["wrk"]["p50_ms"] for r in rs]),
                        med([r["wrk"]["p99_ms"] for r in rs]), "", None, len(rs)))
    rs = runs.get("http_storm_c16", [])
    if rs:
        v = wrk_rate(rs, "refused")
        winners = [r["wrk"]["ok"] for r in rs]
        p99 = med([r["wrk"]["p99_ms"] for r in rs])
        met = all(w == 1 for w in winners) and v >= 2000 and p99 < 50
        out.append((f"HTTP hot-seat storm, 16 connections (winners per run: {winners})", v, "refusals/s",
                    None, med([r["wrk"]["p50_ms"] for r in rs]), p99, "1 winner, >= 2000/s, p99 < 50 ms",
                    met, len(rs)))
    out.extend(lifecycle_rows(runs, ceiling))
    for scen, label, goal_s in [
        ("core_initialize_200000", "initialize a 200,000-seat show (core)", 1.0),
        ("core_status_200000", "status of a 200,000-seat show (core)", 0.2),
        ("http_initialize_200k", "initialize a 200,000-seat show over HTTP (one 2.1 MB body)", 1.0),
        ("http_status_200k", "status of a 200,000-seat show over HTTP (streamed)", 0.2),
        ("core_sweep_100000", "sweep 100,000 expired holds (core)", 2.0),
    ]:
        rs = runs.get(scen, [])
        if rs:
            v = med([r["seconds"] for r in rs])
            out.append((label, v, "s", None, None, None, f"<= {goal_s} s" if goal_s else "",
                        (v <= goal_s) if goal_s else None, len(rs)))
    for scen, label, goal in [
        ("core_holds_t16", "core in-process holds, 16 threads", None),
        ("python_t1", "Python in-process holds, 1 thread", None),
        ("python_t8", "Python in-process holds, 8 threads", 3000),
        ("c_t8", "C library cycles (hold, then book or release), 8 threads", None),
        ("core_best4_t1", "core best-available 4 of 20,000 (70 % taken), 1 thread", None),
        ("core_best4_t16", "core best-available 4 of 20,000 (70 % taken), 16 threads", None),
        ("core_best4_sql_select", "the same choice as one SQL query (runs of free seats), no hold", None),
    ]:
        rs = runs.get(scen, [])
        if rs:
            v = med([r["per_s"] for r in rs])
            out.append((label, v, "/s", v / ceiling[16] if ceiling.get(16) else None,
                        med([r["p50_ms"] for r in rs if "p50_ms" in r]),
                        med([r["p99_ms"] for r in rs if "p99_ms" in r]),
                        f">= {goal} holds/s" if goal else "", (v >= goal) if goal else None, len(rs)))
    aio_runs, sync_runs = runs.get("aio_holds", []), runs.get("sync_holds", [])
    if aio_runs and sync_runs:
        v = med([r["holds_per_s"] for r in aio_runs])
        ratio = v / med([r["holds_per_s"] for r in sync_runs])
        out.append((f"seatcore.aio holds, 64 tasks on 1 loop (x {ratio:.2f} of 8 sync threads, goal >= 0.9)",
                    v, "/s", v / ceiling[16] if ceiling.get(16) else None, None, None, ">= 0.9 x sync",
                    ratio >= 0.9, len(aio_runs)))
        lag = med([r["lag_p99_ms"] for r in aio_runs])
        out.append(("1 ms timer lag p99 on that loop under that load", lag, "ms", None, None, None, "<= 5 ms",
                    lag <= 5, len(aio_runs)))
    rs = runs.get("hold_group_sizes", [])
    if rs:
        groups = rs[0]["groups"]
        total = sum(groups.values())
        holds = sum(n * int(size.split("-")[0].rstrip("+")) for size, n in groups.items())
        shown = ", ".join(f"{size}: {n}" for size, n in groups.items() if n)
        out.append((f"groups of holds by size over the HTTP runs ({shown})", holds / total if total else None,
                    "holds/group (at least)", None, None, None, "", None, 1))
    rs = runs.get("event_readers", [])
    if rs:
        res = [r["result"] for r in rs]
        n = min(x["readers"] for x in res)
        within = min(x["within_250ms"] for x in res)
        missing = sum(x["missing"] for x in res)
        out.append((f"event streams: {n:,} readers of one show, a hold every 250 ms, share of events within "
                    f"250 ms of the hold's request (worst run; {missing} missing)", within * 100, "%", None,
                    med([x["p50_ms"] for x in res]), med([x["p99_ms"] for x in res]), ">= 99 %",
                    within >= 0.99 and missing == 0, len(rs)))
        rss = max(x["server_rss_mb"] for x in res)
        out.append((f"server RSS with {n:,} event streams open", rss, "MB", None, None, None, "<= 200 MB",
                    rss <= 200, len(rs)))
    out.extend(ratio_row(runs, "http_holds_c16_readers", "http_holds_c16_no_readers",
                         "HTTP holds, 16 connections, with those readers connected (x {:.2f} of none)", 0.8))
    out.extend(peak_rss_row(runs, "server_peak_rss_streams", "server peak RSS through the event-stream runs", 200))
    out.extend(ratio_row(runs, "http_holds_c16_log", "http_holds_c16_nolog",
                         "HTTP holds, 16 connections, change log written (x {:.2f} of the log dropped)", 0.85))
    out.extend(peak_rss_row(runs, "server_peak_rss",
                            "server peak RSS through all HTTP load above, 200k-seat initializes and status reads incl.",
                            30))
    return out


def peak_rss_row(runs, scen, label, goal_mb):
    """The highest of a scenario's peak RSS figures against its goal (no row without a run)."""
    rs = runs.get(scen, [])
    if not rs:
        return []
    v = max(r["mb"] for r in rs)
    return [(label, v, "MB", None, None, None, f"<= {goal_mb} MB", v <= goal_mb, len(rs))]


def ratio_row(runs, scen, base, label, goal):
    """A row (or none) for wrk's holds in `scen` against those in `base`, run beside them."""
    rs, base_rs = runs.get(scen, []), runs.get(base, [])
    if not rs or not base_rs:
        return []

    def rate(rs):
        return med([r["wrk"]["ok"] / r["wrk"]["seconds"] for r in rs])

    v = rate(rs)
    ratio = v / rate(base_rs)
    return [(label.format(ratio), v, "/s", None, med([r["wrk"]["p50_ms"] for r in rs]),
             med([r["wrk"]["p99_ms"] for r in rs]), f">= {goal} x without", ratio >= goal, len(rs))]


def lifecycle_rows(runs, ceiling):
    """extend-hold and partial releases, each against the holds it must not cost more than:
    over HTTP the holds run just before it in the same round (the median of the rounds'
    ratios of requests served, on holds made before the run; any hold a run makes itself,
    once those are used up, counts as a request), in-process the core's one-seat holds."""
    out = []

    def per_rep(scen, keys):
        return {r["rep"]: sum(r["wrk"][k] for k in keys) / r["wrk"]["seconds"] for r in runs.get(scen, [])}

    holds = per_rep("http_holds_c16_lifecycle", ["ok"])
    for scen, label, key in [
        ("http_extend_c16", "HTTP extend-hold, 16 connections", "extended"),
        ("http_partial_release_c16", "HTTP partial release (one seat), 16 connections", "released"),
    ]:
        rs = runs.get(scen, [])
        rates = per_rep(scen, ["ok", key])
        ratios = [rates[rep] / holds[rep] for rep in rates if holds.get(rep)]
        if not rs or not ratios:
            continue
        ratio = med(ratios)
        bad = sum(r["wrk"]["other"] + r["wrk"]["errors"] for r in rs)
        v = med(list(rates.values()))
        out.append((f"{label}: {ratio:.2f} x holds/s" + (f" ({bad} failed requests)" if bad else ""), v, "/s",
                    v / ceiling[16] if ceiling.get(16) else None, med([r["wrk"]["p50_ms"] for r in rs]),
                    med([r["wrk"]["p99_ms"] for r in rs]), "costs no more than a hold", ratio >= 1.0, len(rs)))
    core_holds = {r["rep"]: r["per_s"] for r in runs.get("core_holds_t16", [])}
    for scen, label in [
        ("core_extend_t16", "core in-process extend-hold, 16 threads"),
        ("core_partial_release_t16", "core in-process partial release, 16 threads"),
    ]:
        rs = runs.get(scen, [])
        ratios = [r["per_s"] / core_holds[r["rep"]] for r in rs if core_holds.get(r["rep"])]
        if not ratios:
            continue
        v = med([r["per_s"] for r in rs])
        ratio = med(ratios)
        out.append((f"{label}: {ratio:.2f} x holds/s", v, "/s", v / ceiling[16] if ceiling.get(16) else None,
                    med([r["p50_ms"] for r in rs]), med([r["p99_ms"] for r in rs]), "costs no more than a hold",
                    ratio >= 1.0, len(rs)))
    return out


def fmt(v, digits=1):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}" if abs(v) >= 1 else f"{v:.3f}"


def table(out):
    head = ("scenario", "median", "unit", "x ceiling", "p50 ms", "p99 ms", "goal", "met", "runs")
    lines = [head] + [(label, fmt(v), u, fmt(r, 2), fmt(p50, 2), fmt(p99, 2), g,
                       {True: "yes", False: "NO", None: ""}[m], str(n))
                      for label, v, u, r, p50, p99, g, m, n in out]
    widths = [max(len(str(row[i])) for row in lines) for i in range(len(head))]
    text = []
    for i, row in enumerate(lines):
        text.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
        if i == 0:
            text.append("  ".join("-" * w for w in widths))
    return "\n".join(text)


def chart(out, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no chart: matplotlib is not installed)", file=sys.stderr)
        return
    bars = [(label, r) for label, _v, _u, r, *_ in out if r is not None]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(bars) + 1.6))
    labels = [label.split(" (")[0] for label, _ in bars][::-1]
    ratios = [r for _, r in bars][::-1]
    colors = ["#888888" if label.startswith("ceiling") else "#2a7ab9" for label in labels]
    ax.barh(labels, ratios, color=colors)
    for i, r in enumerate(ratios):
        ax.text(r + 0.01, i, f"{r:.2f}", va="center", fontsize=8)
    ax.axvline(0.6, color="#c0392b", linestyle="--", linewidth=1)
    ax.text(0.6, len(ratios) - 0.4, " goal 0.6", color="#c0392b", fontsize=8)
    ax.set_xlabel("throughput as a fraction of the PostgreSQL ceiling (pgbench, same clients)")
    ax.set_title("seatcore vs. PostgreSQL's own ceiling (median of runs)", fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    fig.text(0.01, 0.01, machine(), fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path)
    print(f"chart: {path}", file=sys.stderr)


def main():
    runs = load(sys.argv[1])
    out = rows(runs)
    print(f"machine: {machine()}")
    print(table(out))
    if len(sys.argv) > 2:
        chart(out, sys.argv[2])


if __name__ == "__main__":
    main()
