#!/usr/bin/env python3
"""The summary of bench/compare.sh: one table of every target x shape, side by side.

Reads TARGET-SHAPE-max.json (closed loop, --rate max) and TARGET-SHAPE-lat.json (open loop at the
latency rate) from --dir, written by sealcast-bench --json, and writes there:

  compare.md    the table as markdown
  compare.json  the same figures, one object per (shape, target)
  compare.svg   a bar chart of the table (plain SVG, one panel per shape and figure)

A figure from a run in which the bench reported itself the bottleneck (figure bench_saturated)
is marked with *, one from a run whose invariants did not hold with !, and a missing or failed
run is shown as a dash. Python's standard library only.
"""

import argparse
import html
import json
import os

TARGET_NAMES = {"sealcast": "Sealcast", "nats": "nats-server", "mqtt": "Mosquitto"}
TARGET_COLOURS = {"sealcast": "#1f77b4", "nats": "#2ca02c", "mqtt": "#d62728"}
SHAPE_NAMES = {
    "1x1000": "1x1000: 1 publisher -> 1000 subscribers",
    "100x10": "100x10: 100 groups of 10, all publishing",
    "50x2": "50x2 durable: 50 groups of 2, all publishing",
}
# The durable shape is about the publish path: its throughput is publishes/s.
DURABLE_SHAPES = {"50x2"}


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def figure(run, key):
    if not run:
        return None
    value = run.get("figures", {}).get(key)
    return value if isinstance(value, (int, float)) else None


def latency(run, quantile):
    if not run:
        return None
    lat = run.get("latency", {}).get("publish_to_deliver", {})
    if not lat.get("count"):
        return None
    return lat.get(quantile)


def marks(run):
    """'' for a clean run, '*' when the bench was the bottleneck, '!' when invariants failed."""
    if not run:
        return ""
    m = ""
    if figure(run, "bench_saturated"):
        m += "*"
    if not run.get("invariants_hold", False):
        m += "!"
    return m


def row(directory, target, shape):
    peak = load(os.path.join(directory, f"{target}-{shape}-max.json"))
    lat = load(os.path.join(directory, f"{target}-{shape}-lat.json"))
    durable = shape in DURABLE_SHAPES
    rate = None
    if lat:
        r = lat.get("parameters", {}).get("rate")
        rate = r if isinstance(r, (int, float)) else None
    return {
        "shape": shape,
        "target": target,
        "throughput_key": "published_per_s" if durable else "delivered_per_s",
        "throughput": figure(peak, "published_per_s" if durable else "delivered_per_s"),
        "published_per_s": figure(peak, "published_per_s"),
        "delivered_per_s": figure(peak, "delivered_per_s"),
        "broker_cpu_us_per_delivery": figure(peak, "broker_cpu_us_per_delivery"),
        "bench_cpu_pct": figure(peak, "bench_cpu_pct"),
        "max_marks": marks(peak),
        "max_ran": peak is not None,
        "latency_rate": rate,
        "latency_published_per_s": figure(lat, "published_per_s"),
        "p50_ms": latency(lat, "p50_ms"),
        "p99_ms": latency(lat, "p99_ms"),
        "latency_marks": marks(lat),
        "latency_ran": lat is not None,
    }


def fmt_rate(v):
    if v is None:
        return "-"
    if v >= 10000:
        return f"{v / 1000:.1f}k"
    return f"{v:.0f}" if v >= 10 or v == int(v) else f"{v:.1f}"


def fmt_num(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.0f}" if v >= 10 or v == int(v) else f"{v:.1f}" if v >= 1 else f"{v:.2f}"


def markdown(rows, targets, shapes, settings):
    by = {(r["shape"], r["target"]): r for r in rows}
    out = ["# sealcast-bench compare", ""]
    out += [f"- {s}" for s in settings]
    out += [
        "",
        "| shape | figure | " + " | ".join(TARGET_NAMES.get(t, t) for t in targets) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in targets) + " |",
    ]
    for shape in shapes:
        durable = shape in DURABLE_SHAPES
        cells = {t: by[(shape, t)] for t in targets}
        rate = next((c["latency_rate"] for c in cells.values() if c["latency_rate"] is not None), None)
        lines = [
            ("max publishes/s (closed loop)" if durable else "max deliveries/s (closed loop)",
             lambda c: fmt_rate(c["throughput"]) + c["max_marks"]),
            ("broker CPU us per delivery (at max)",
             lambda c: fmt_num(c["broker_cpu_us_per_delivery"]) + c["max_marks"]),
            (f"p50 / p99 ms publish -> deliver at {fmt_rate(rate)} publishes/s",
             lambda c: f"{fmt_ms(c['p50_ms'])} / {fmt_ms(c['p99_ms'])}" + c["latency_marks"]),
        ]
        for label, cell in lines:
            out.append(f"| {shape} | {label} | " + " | ".join(cell(cells[t]) for t in targets) + " |")
    out += [
        "",
        "\\* the bench reported itself the bottleneck in that run (it used all the CPU it can get, or one "
        "of its threads was always running or waiting for a CPU): the figure is a bound set by the load "
        "generator, not by the broker. ! the run's invariants did not hold (see its .txt). - no result "
        "(the run failed or was not made).",
        "",
    ]
    return "\n".join(out)


def svg_chart(rows, targets, shapes, settings):
    """One row of panels per shape: throughput, broker CPU per delivery, p50/p99 latency."""
    by = {(r["shape"], r["target"]): r for r in rows}
    panel_w, panel_h, pad_l, gap = 250, 170, 70, 30
    legend_y = 30 + 15 * len(settings)  # one line per setting under the title
    pad_t = legend_y + 22
    cols = 3
    width = pad_l + cols * (panel_w + gap) + 10
    height = pad_t + len(shapes) * (panel_h + 60) + 40
    e = html.escape
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        '<text x="10" y="20" font-size="15" font-weight="bold">sealcast-bench compare</text>',
    ]
    for i, line in enumerate(settings):
        svg.append(f'<text x="10" y="{36 + 15 * i}" fill="#555">{e(line)}</text>')
    x = 10
    for t in targets:  # legend
        svg.append(f'<rect x="{x}" y="{legend_y}" width="12" height="12" fill="{TARGET_COLOURS.get(t, "#888")}"/>')
        svg.append(f'<text x="{x + 16}" y="{legend_y + 10}">{e(TARGET_NAMES.get(t, t))}</text>')
        x += 110
    svg.append(f'<text x="{x}" y="{legend_y + 10}" fill="#555">hatched, *: the bench was the bottleneck; '
               f'!: invariants failed</text>')
    svg.append('<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
               'patternTransform="rotate(45)"><rect width="6" height="6" fill="white" fill-opacity="0.0"/>'
               '<line x1="0" y1="0" x2="0" y2="6" stroke="white" stroke-width="2"/></pattern></defs>')

    def panel(px, py, title, values, unit_fmt, id_):
        svg.append(f'<g id="{e(id_)}">')
        svg.append(f'<text x="{px}" y="{py - 8}" font-weight="bold">{e(title)}</text>')
        svg.append(f'<line x1="{px}" y1="{py + panel_h}" x2="{px + panel_w}" y2="{py + panel_h}" stroke="#333"/>')
        vmax = max([v for _, v, _, _ in values if v is not None] or [0])
        top = vmax * 1.15 if vmax > 0 else 1
        bar_w = panel_w / max(1, len(values)) * 0.6
        for i, (t, v, mark, inner) in enumerate(values):
            bx = px + (i + 0.2) * panel_w / max(1, len(values))
            colour = TARGET_COLOURS.get(t, "#888")
            label = TARGET_NAMES.get(t, t)
            if v is None:
                svg.append(f'<text x="{bx + bar_w / 2:.1f}" y="{py + panel_h - 4}" text-anchor="middle">-</text>')
            else:
                h = panel_h * v / top
                svg.append(f'<rect class="bar" data-target="{e(t)}" data-value="{v:.6g}" x="{bx:.1f}" '
                           f'y="{py + panel_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}"/>')
                if "*" in mark:
                    svg.append(f'<rect x="{bx:.1f}" y="{py + panel_h - h:.1f}" width="{bar_w:.1f}" '
                               f'height="{h:.1f}" fill="url(#hatch)"/>')
                if inner is not None:  # p50 inside the p99 bar
                    ih = panel_h * inner / top
                    svg.append(f'<line x1="{bx:.1f}" y1="{py + panel_h - ih:.1f}" x2="{bx + bar_w:.1f}" '
                               f'y2="{py + panel_h - ih:.1f}" stroke="black" stroke-width="2"/>')
                svg.append(f'<text x="{bx + bar_w / 2:.1f}" y="{py + panel_h - h - 4:.1f}" '
                           f'text-anchor="middle">{e(unit_fmt(v) + mark)}</text>')
            svg.append(f'<text x="{bx + bar_w / 2:.1f}" y="{py + panel_h + 14}" text-anchor="middle" '
                       f'fill="#333">{e(label)}</text>')
        svg.append("</g>")

    for si, shape in enumerate(shapes):
        py = pad_t + 40 + si * (panel_h + 60)
        durable = shape in DURABLE_SHAPES
        cells = [by[(shape, t)] for t in targets]
        rate = next((c["latency_rate"] for c in cells if c["latency_rate"] is not None), None)
        svg.append(f'<text x="10" y="{py - 26}" font-size="13" font-weight="bold">'
                   f'{e(SHAPE_NAMES.get(shape, shape))}</text>')
        panel(pad_l, py, "max publishes/s" if durable else "max deliveries/s",
              [(c["target"], c["throughput"], c["max_marks"], None) for c in cells], fmt_rate,
              f"{shape}-throughput")
        panel(pad_l + panel_w + gap, py, "broker CPU us per delivery",
              [(c["target"], c["broker_cpu_us_per_delivery"], c["max_marks"], None) for c in cells],
              lambda v: f"{v:.1f}", f"{shape}-cpu")
        panel(pad_l + 2 * (panel_w + gap), py, f"p99 ms (line: p50) at {fmt_rate(rate)} pub/s",
              [(c["target"], c["p99_ms"], c["latency_marks"], c["p50_ms"]) for c in cells], fmt_ms,
              f"{shape}-latency")
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=".", help="where the run JSON files are, and the summary goes")
    ap.add_argument("--targets", default="sealcast nats mqtt")
    ap.add_argument("--shapes", default="1x1000 100x10 50x2")
    ap.add_argument("--setting", action="append", default=[], help="a line describing the run (repeatable)")
    a = ap.parse_args()
    targets, shapes = a.targets.split(), a.shapes.split()
    rows = [row(a.dir, t, s) for s in shapes for t in targets]
    with open(os.path.join(a.dir, "compare.md"), "w", encoding="utf-8") as f:
        f.write(markdown(rows, targets, shapes, a.setting))
    with open(os.path.join(a.dir, "compare.json"), "w", encoding="utf-8") as f:
        json.dump({"settings": a.setting, "targets": targets, "shapes": shapes, "rows": rows}, f, indent=1)
        f.write("\n")
    with open(os.path.join(a.dir, "compare.svg"), "w", encoding="utf-8") as f:
        f.write(svg_chart(rows, targets, shapes, a.setting))


if __name__ == "__main__":
    main()
