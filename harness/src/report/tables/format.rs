//! How names and numbers are written on the pages: slugs, values with the digits
//! that tell models apart, SI prefixes, byte sizes.

/// File-name-safe version of a task or model name.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Significant digits that show differences between models: 5 decimals for values in
/// [0, 10), fewer for large ones.
pub fn fmt_value(x: f64) -> String {
    if !x.is_finite() {
        format!("{x}")
    } else if x.abs() >= 1000.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.5}")
    }
}

/// Decimals that give the interval half-width `hw` two significant digits (3 to 6).
pub(crate) fn decimals_for(hw: f64) -> usize {
    if hw > 0.0 && hw.is_finite() {
        (1.0 - hw.log10().floor()).clamp(3.0, 6.0) as usize
    } else {
        5
    }
}

/// Three significant digits with an SI prefix: 46193 -> "46.2 k".
pub(crate) fn human(x: f64, unit: &str) -> String {
    let (v, p) = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")]
        .into_iter()
        .find(|(s, _)| x.abs() >= *s)
        .unwrap_or((1.0, ""));
    let y = x / v;
    let num = if y >= 100.0 {
        format!("{y:.0}")
    } else if y >= 10.0 {
        format!("{y:.1}")
    } else {
        format!("{y:.2}")
    };
    format!("{num} {p}{unit}").trim_end().to_string()
}

pub(crate) fn bytes(x: f64) -> String {
    let (v, p) = [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        .into_iter()
        .find(|(s, _)| x >= *s as f64)
        .unwrap_or((1, "B"));
    format!("{:.1} {p}", x / v as f64)
}
