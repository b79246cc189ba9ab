//! The accuracy-vs-cost plots of a task page, as inline SVG (no script, no fonts to
//! fetch): x = a cost on a log10 axis ([`FLOPS`]: forward FLOPs per example;
//! [`EMBEDDING_BYTES`]: bytes of the embedding values a model uses), y = the primary
//! metric's mean with its 95% CI as an error bar, and the Pareto front (no other model
//! is both cheaper and better) drawn as a staircase. Each point's <title> lists its
//! per-seed values, which browsers show on hover.

use std::fmt::Write;

use super::tables::{Row, TaskTable};

const W: f64 = 760.0;
const H: f64 = 420.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 56.0;

/// The cost on the x axis of a plot.
pub struct Axis {
    /// Id suffix of the SVG's title element (unique per page).
    pub key: &'static str,
    /// "forward FLOPs per example".
    pub label: &'static str,
    /// The value of a row (None: not measured, not plotted).
    pub value: fn(&Row) -> Option<f64>,
    /// A value as text, e.g. "46.2k" or "1.5 MB".
    pub fmt: fn(f64) -> String,
    /// What the banner says when no row has a value.
    pub none: &'static str,
    /// Short name for "not plotted (no ...)".
    pub short: &'static str,
    /// Ticks at powers of this base (10 for FLOPs, 2 for bytes: 16 KiB, 64 KiB, ...).
    pub tick_base: f64,
}

/// Forward FLOPs per example.
pub const FLOPS: Axis = Axis {
    key: "flops",
    label: "forward FLOPs per example",
    value: |r| r.flops_value,
    fmt: flops_text,
    none: "No plot: FLOPs/example not measured yet for any model.",
    short: "FLOPs",
    tick_base: 10.0,
};

/// Bytes of the embedding values a trained model uses (f32).
pub const EMBEDDING_BYTES: Axis = Axis {
    key: "embedding-bytes",
    label: "bytes of embedding values used",
    value: |r| r.embedding_bytes.value,
    fmt: bytes_text,
    none: "No plot: embedding bytes not recorded for any model.",
    short: "embedding bytes",
    tick_base: 2.0,
};

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

fn flops_text(v: f64) -> String {
    for (s, p) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] {
        if v >= s {
            return format!("{}{p}", fmt_num(v / s));
        }
    }
    fmt_num(v)
}

/// Binary byte units, as the tables show memory (ticks at powers of two read as
/// 16 KiB, 64 KiB, 1 MiB, ...).
fn bytes_text(v: f64) -> String {
    for (s, p) in [
        (1u64 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ] {
        if v >= s as f64 {
            return format!("{} {p}", fmt_num(v / s as f64));
        }
    }
    format!("{} B", fmt_num(v))
}

/// Tick positions (log10 of the value) in [x0, x1] at whole powers of `base`, every
/// `k`-th power with k chosen for at most 7 ticks. Base 10 over less than two decades
/// adds 2 x and 5 x each power, so a narrow range still gets several ticks.
fn log_ticks(x0: f64, x1: f64, base: f64) -> Vec<f64> {
    let lb = base.log10();
    let (p0, p1) = ((x0 / lb).ceil() as i64, (x1 / lb).floor() as i64);
    let span = (p1 - p0).max(0) as f64;
    let k = [1i64, 2, 3, 4, 5, 10, 20]
        .into_iter()
        .find(|k| span / *k as f64 <= 6.0)
        .unwrap_or(50);
    let mut ticks: Vec<f64> = (p0..=p1)
        .filter(|p| p.rem_euclid(k) == 0)
        .map(|p| p as f64 * lb)
        .collect();
    if base == 10.0 && x1 - x0 < 2.0 {
        ticks = (x0.floor() as i64..=x1.ceil() as i64)
            .flat_map(|d| [1.0f64, 2.0, 5.0].map(|m| d as f64 + m.log10()))
            .filter(|x| *x >= x0 - 1e-9 && *x <= x1 + 1e-9)
            .collect();
    }
    ticks
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

/// Indices of the Pareto-optimal points of (cost, metric) pairs, cheapest first: a
/// point is on the front when every cheaper point is worse (ties in cost: the better
/// one). The front is what a plot's staircase connects.
pub fn pareto_front(points: &[(f64, f64)], higher_is_better: bool) -> Vec<usize> {
    let better = |a: f64, b: f64| if higher_is_better { a > b } else { a < b };
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (points[i], points[j]);
        a.0.total_cmp(&b.0).then(if higher_is_better {
            b.1.total_cmp(&a.1)
        } else {
            a.1.total_cmp(&b.1)
        })
    });
    let mut front: Vec<usize> = Vec::new();
    for i in order {
        if front
            .last()
            .is_none_or(|&f| better(points[i].1, points[f].1))
        {
            front.push(i);
        }
    }
    front
}

/// The SVG of a task's table (a short message inside the SVG when nothing can be
/// plotted).
pub fn scatter(t: &TaskTable, axis: &Axis) -> String {
    let pts: Vec<Pt> = t
        .rows
        .iter()
        .filter_map(|r| {
            let s = r.primary.summary.as_ref()?;
            let f = (axis.value)(r).filter(|f| *f > 0.0 && f.is_finite())?;
            let (lo, hi) = s.ci.unwrap_or((s.mean, s.mean));
            Some(Pt {
                model: r.model.clone(),
                x: f.log10(),
                y: s.mean,
                lo,
                hi,
                title: format!(
                    "{}: {} {} (rank group {}); {} {}; {}",
                    r.model,
                    t.primary,
                    r.primary.text,
                    r.group_text,
                    (axis.fmt)(f),
                    axis.label,
                    r.primary.per_seed
                ),
                rank1: r.group == Some(1),
            })
        })
        .collect();
    let missing: Vec<&str> = t
        .rows
        .iter()
        .filter(|r| (axis.value)(r).is_none())
        .map(|r| r.model.as_str())
        .collect();
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-labelledby="plot-title-{}" class="plot" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">"#,
        axis.key
    );
    let _ = write!(
        o,
        r#"<title id="plot-title-{}">{} vs {}, task {}</title>"#,
        axis.key,
        esc(&t.primary),
        axis.label,
        esc(&t.task)
    );
    if pts.is_empty() {
        // A short banner instead of an empty frame.
        return format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} 60" role="img" class="plot" font-family="system-ui, sans-serif" font-size="13"><title>No plot of {} vs {} for task {}</title><rect x="1" y="1" width="{}" height="58" fill="#fafafa" stroke="#d0d7de"/><text x="{}" y="35" text-anchor="middle" fill="#57606a">{}</text></svg>"##,
            esc(&t.primary),
            axis.label,
            esc(&t.task),
            W - 2.0,
            W / 2.0,
            axis.none
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
    for x in log_ticks(x0, x1, axis.tick_base) {
        let px = sx(x);
        let _ = write!(
            o,
            r##"<line x1="{px:.1}" x2="{px:.1}" y1="{TOP}" y2="{}" stroke="#eaeef2"/><text x="{px:.1}" y="{}" text-anchor="middle" fill="#57606a">{}</text>"##,
            TOP + ph,
            TOP + ph + 18.0,
            esc(&(axis.fmt)(10f64.powf(x)))
        );
    }
    let better = if t.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    let _ = write!(
        o,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#24292f">{} (log scale)</text>"##,
        LEFT + pw / 2.0,
        H - 12.0,
        axis.label
    );
    let _ = write!(
        o,
        r##"<text transform="translate(18 {}) rotate(-90)" text-anchor="middle" fill="#24292f">{} — mean, 95% CI ({better})</text>"##,
        TOP + ph / 2.0,
        esc(&t.primary)
    );
    let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.x, p.y)).collect();
    let front: Vec<&Pt> = pareto_front(&xy, t.higher_is_better)
        .into_iter()
        .map(|i| &pts[i])
        .collect();
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
            r##"<text x="{lx}" y="{}" fill="#57606a">not plotted (no {}):</text><text x="{lx}" y="{}" fill="#57606a">{}</text>"##,
            TOP + 80.0,
            axis.short,
            TOP + 96.0,
            esc(&missing.join(", "))
        );
    }
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::{bytes_text, log_ticks, pareto_front};

    #[test]
    fn ticks_fall_on_round_values() {
        let label = |t: Vec<f64>| -> Vec<String> {
            t.iter().map(|x| format!("{:.0}", 10f64.powf(*x))).collect()
        };
        // 10 .. 1e6 FLOPs: one tick per decade.
        assert_eq!(
            label(log_ticks(1.0, 6.0, 10.0)),
            ["10", "100", "1000", "10000", "100000", "1000000"]
        );
        // Less than two decades: 1-2-5.
        assert_eq!(label(log_ticks(1.2, 2.5, 10.0)), ["20", "50", "100", "200"]);
        // Bytes from 15 KiB to 160 KiB: powers of two.
        let b = log_ticks(15360f64.log10(), 163840f64.log10(), 2.0);
        let text: Vec<String> = b.iter().map(|x| bytes_text(10f64.powf(*x))).collect();
        assert_eq!(text, ["16 KiB", "32 KiB", "64 KiB", "128 KiB"]);
        // Many powers of two: every k-th, at most 7.
        assert!(log_ticks(0.0, 12.0, 2.0).len() <= 7);
    }

    #[test]
    fn front_keeps_points_better_than_every_cheaper_one() {
        // (cost, auc): 0 cheapest; 1 costlier and better; 2 costlier but worse than 1;
        // 3 ties 1 in cost but is worse; 4 the most expensive and the best.
        let pts = [
            (1.0, 0.60),
            (10.0, 0.70),
            (100.0, 0.65),
            (10.0, 0.68),
            (1e3, 0.71),
        ];
        assert_eq!(pareto_front(&pts, true), vec![0, 1, 4]);
        // Lower is better (logloss): 2 is costlier than 1 and worse.
        let ll = [(1.0, 0.40), (10.0, 0.35), (100.0, 0.38), (1e3, 0.30)];
        assert_eq!(pareto_front(&ll, false), vec![0, 1, 3]);
        assert_eq!(pareto_front(&pts, false), vec![0]);
        // Equal metric at a higher cost is dominated.
        assert_eq!(pareto_front(&[(1.0, 0.7), (2.0, 0.7)], true), vec![0]);
        assert!(pareto_front(&[], true).is_empty());
    }
}
