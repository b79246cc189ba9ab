//! The accuracy-vs-cost plot of a task page, as inline SVG (no script, no fonts to
//! fetch): x = forward FLOPs per example on a log10 axis, y = the primary metric's mean
//! with its 95% CI as an error bar, and the Pareto front (no other model is both
//! cheaper and better) drawn as a staircase. Each point's <title> lists its per-seed
//! values, which browsers show on hover.

use std::fmt::Write;

use super::tables::TaskTable;

const W: f64 = 760.0;
const H: f64 = 420.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 56.0;

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

struct Pt {
    model: String,
    x: f64,
    y: f64,
    lo: f64,
    hi: f64,
    title: String,
    rank1: bool,
}

fn flops_label(x: f64) -> String {
    let v = 10f64.powf(x);
    for (s, p) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] {
        if v >= s {
            return format!("{}{p}", fmt_num(v / s));
        }
    }
    fmt_num(v)
}

fn fmt_num(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn nice_step(range: f64) -> f64 {
    let raw = range / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    mag * if f < 1.5 {
        1.0
    } else if f < 3.5 {
        2.0
    } else if f < 7.5 {
        5.0
    } else {
        10.0
    }
}

/// The SVG of a task's table (a short message inside the SVG when nothing can be
/// plotted).
pub fn scatter(t: &TaskTable) -> String {
    let pts: Vec<Pt> = t
        .rows
        .iter()
        .filter_map(|r| {
            let s = r.primary.summary.as_ref()?;
            let f = r.flops_value.filter(|f| *f > 0.0)?;
            let (lo, hi) = s.ci.unwrap_or((s.mean, s.mean));
            Some(Pt {
                model: r.model.clone(),
                x: f.log10(),
                y: s.mean,
                lo,
                hi,
                title: format!(
                    "{}: {} {} (rank group {}); {} FLOPs/example; {}",
                    r.model,
                    t.primary,
                    r.primary.text,
                    r.group_text,
                    fmt_num(f),
                    r.primary.per_seed
                ),
                rank1: r.group == Some(1),
            })
        })
        .collect();
    let missing: Vec<&str> = t
        .rows
        .iter()
        .filter(|r| r.flops_value.is_none())
        .map(|r| r.model.as_str())
        .collect();
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-labelledby="plot-title" class="plot" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">"#
    );
    let _ = write!(
        o,
        r#"<title id="plot-title">{} vs forward FLOPs per example, task {}</title>"#,
        esc(&t.primary),
        esc(&t.task)
    );
    if pts.is_empty() {
        // A short banner instead of an empty frame.
        return format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} 60" role="img" class="plot" font-family="system-ui, sans-serif" font-size="13"><title>No accuracy-vs-FLOPs plot for task {}</title><rect x="1" y="1" width="{}" height="58" fill="#fafafa" stroke="#d0d7de"/><text x="{}" y="35" text-anchor="middle" fill="#57606a">No plot: FLOPs/example not measured yet for any model.</text></svg>"##,
            esc(&t.task),
            W - 2.0,
            W / 2.0
        );
    }
    let (mut x0, mut x1) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.x), b.max(p.x))
        });
    let (mut y0, mut y1) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.lo), b.max(p.hi))
        });
    if x1 - x0 < 1.0 {
        let c = (x0 + x1) / 2.0;
        (x0, x1) = (c - 0.5, c + 0.5);
    }
    let xpad = (x1 - x0) * 0.08;
    (x0, x1) = (x0 - xpad, x1 + xpad);
    if y1 - y0 < 1e-9 {
        (y0, y1) = (y0 - 0.005, y1 + 0.005);
    }
    let ypad = (y1 - y0) * 0.1;
    (y0, y1) = (y0 - ypad, y1 + ypad);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * ph;
    // Frame and grid.
    let _ = write!(
        o,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#fff" stroke="#d0d7de"/>"##
    );
    let step = nice_step(y1 - y0);
    let mut y = (y0 / step).ceil() * step;
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    while y <= y1 + 1e-12 {
        let py = sy(y);
        let _ = write!(
            o,
            r##"<line x1="{LEFT}" x2="{}" y1="{py:.1}" y2="{py:.1}" stroke="#eaeef2"/><text x="{}" y="{:.1}" text-anchor="end" fill="#57606a">{y:.decimals$}</text>"##,
            LEFT + pw,
            LEFT - 8.0,
            py + 4.0
        );
        y += step;
    }
    let xstep = if x1 - x0 > 6.0 {
        2.0
    } else if x1 - x0 > 1.5 {
        1.0
    } else {
        0.25
    };
    let mut x = (x0 / xstep).ceil() * xstep;
    while x <= x1 + 1e-12 {
        let px = sx(x);
        let _ = write!(
            o,
            r##"<line x1="{px:.1}" x2="{px:.1}" y1="{TOP}" y2="{}" stroke="#eaeef2"/><text x="{px:.1}" y="{}" text-anchor="middle" fill="#57606a">{}</text>"##,
            TOP + ph,
            TOP + ph + 18.0,
            flops_label(x)
        );
        x += xstep;
    }
    let better = if t.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    let _ = write!(
        o,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#24292f">forward FLOPs per example (log scale)</text>"##,
        LEFT + pw / 2.0,
        H - 12.0
    );
    let _ = write!(
        o,
        r##"<text transform="translate(18 {}) rotate(-90)" text-anchor="middle" fill="#24292f">{} — mean, 95% CI ({better})</text>"##,
        TOP + ph / 2.0,
        esc(&t.primary)
    );
    // Pareto front: cheapest first, keep each point better than all cheaper ones.
    let mut order: Vec<&Pt> = pts.iter().collect();
    order.sort_by(|a, b| {
        a.x.total_cmp(&b.x).then(if t.higher_is_better {
            b.y.total_cmp(&a.y)
        } else {
            a.y.total_cmp(&b.y)
        })
    });
    let mut front: Vec<&Pt> = Vec::new();
    for p in order {
        let dominated = front.last().is_some_and(|f| {
            if t.higher_is_better {
                p.y <= f.y
            } else {
                p.y >= f.y
            }
        });
        if !dominated {
            front.push(p);
        }
    }
    let mut d = String::new();
    for (i, p) in front.iter().enumerate() {
        if i == 0 {
            let _ = write!(d, "M{:.1} {:.1}", sx(p.x), sy(p.y));
        } else {
            let _ = write!(d, " H{:.1} V{:.1}", sx(p.x), sy(p.y));
        }
    }
    if front.len() > 1 {
        let _ = write!(
            o,
            r##"<path d="{d}" fill="none" stroke="#cf222e" stroke-width="1.5" stroke-dasharray="5 3"/>"##
        );
    }
    for p in &pts {
        let (cx, cy) = (sx(p.x), sy(p.y));
        let color = if p.rank1 { "#0969da" } else { "#6e7781" };
        let on_front = front.iter().any(|f| std::ptr::eq(*f, p));
        let _ = write!(
            o,
            r##"<g class="pt"><title>{}</title><line x1="{cx:.1}" x2="{cx:.1}" y1="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="1.5"/><circle cx="{cx:.1}" cy="{cy:.1}" r="5.5" fill="{color}" stroke="{}" stroke-width="2"/><text x="{:.1}" y="{:.1}" fill="#24292f">{}</text></g>"##,
            esc(&p.title),
            sy(p.lo),
            sy(p.hi),
            if on_front { "#cf222e" } else { "#fff" },
            cx + 8.0,
            cy - 8.0,
            esc(&p.model)
        );
    }
    // Legend.
    let lx = LEFT + pw + 14.0;
    let _ = write!(
        o,
        r##"<g fill="#24292f"><circle cx="{lx}" cy="{}" r="5" fill="#0969da"/><text x="{}" y="{}">rank group 1</text><circle cx="{lx}" cy="{}" r="5" fill="#6e7781"/><text x="{}" y="{}">other groups</text><line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#cf222e" stroke-width="1.5" stroke-dasharray="5 3"/><text x="{}" y="{}">Pareto front</text></g>"##,
        TOP + 10.0,
        lx + 10.0,
        TOP + 14.0,
        TOP + 30.0,
        lx + 10.0,
        TOP + 34.0,
        lx - 6.0,
        lx + 6.0,
        TOP + 50.0,
        TOP + 50.0,
        lx + 10.0,
        TOP + 54.0
    );
    if !missing.is_empty() {
        let _ = write!(
            o,
            r##"<text x="{lx}" y="{}" fill="#57606a">not plotted (no FLOPs):</text><text x="{lx}" y="{}" fill="#57606a">{}</text>"##,
            TOP + 80.0,
            TOP + 96.0,
            esc(&missing.join(", "))
        );
    }
    o.push_str("</svg>");
    o
}
