//! Sample summaries (median, p90) and the side-by-side results table.

/// Median and 90th percentile of a set of samples.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub median: f64,
    /// None for single measurements (memory, wake-up counts).
    pub p90: Option<f64>,
    pub n: usize,
}

impl Summary {
    /// Median (mean of the two middle samples for even counts) and nearest-rank p90.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        };
        let rank = (n * 9).div_ceil(10).max(1);
        Some(Summary {
            median,
            p90: Some(s[rank - 1]),
            n,
        })
    }

    /// A single measured value.
    pub fn single(value: f64) -> Summary {
        Summary {
            median: value,
            p90: None,
            n: 1,
        }
    }
}

/// One line of the table: svbox on the left, runit on the right.
pub struct Row {
    pub metric: String,
    pub unit: &'static str,
    pub svbox: Option<Summary>,
    pub runit: Option<Summary>,
}

fn num(v: f64, unit: &str) -> String {
    match unit {
        "ms" if v < 10.0 => format!("{v:.3}"),
        "ms" => format!("{v:.1}"),
        _ => format!("{v:.0}"),
    }
}

fn cells(s: Option<Summary>, unit: &str) -> (String, String) {
    match s {
        None => ("n/a".into(), "n/a".into()),
        Some(s) => (
            num(s.median, unit),
            s.p90.map_or("–".into(), |p| num(p, unit)),
        ),
    }
}

/// runit/svbox of the medians (so > 1 means svbox is faster or smaller).
fn ratio(a: Option<Summary>, b: Option<Summary>) -> String {
    match (a, b) {
        (Some(svbox), Some(runit)) if svbox.median > 0.0 => {
            format!("{:.2}", runit.median / svbox.median)
        }
        (Some(svbox), Some(runit)) if svbox.median == 0.0 && runit.median == 0.0 => {
            "– (both 0)".into()
        }
        (Some(_), Some(_)) => "∞".into(),
        _ => "n/a".into(),
    }
}

/// The table as Markdown, ready to paste into docs/benchmarks.md.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| metric | unit | n | svbox median | svbox p90 | runit median | runit p90 | runit/svbox |\n");
    out.push_str("|---|---|---|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let (sm, sp) = cells(r.svbox, r.unit);
        let (rm, rp) = cells(r.runit, r.unit);
        let n = match (r.svbox, r.runit) {
            (Some(a), Some(b)) if a.n != b.n => format!("{}/{}", a.n, b.n),
            (Some(a), _) => a.n.to_string(),
            (_, Some(b)) => b.n.to_string(),
            _ => "0".into(),
        };
        let ratio = ratio(r.svbox, r.runit);
        out.push_str(&format!(
            "| {} | {} | {n} | {sm} | {sp} | {rm} | {rp} | {ratio} |\n",
            r.metric, r.unit
        ));
    }
    out
}
