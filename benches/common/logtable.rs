//! The svlogd bench's table: svbox, runit and s6-log side by side, with how many times
//! better svbox is than each peer.

use super::stats::Summary;

/// One measured quantity of one scenario, for each logger.
pub struct Row {
    pub metric: String,
    pub unit: &'static str,
    /// MB/s: higher is better; CPU and memory: lower is better.
    pub higher_is_better: bool,
    /// svbox, runit, s6-log.
    pub cells: [Option<Summary>; 3],
}

fn num(v: f64, unit: &str) -> String {
    match unit {
        "MB/s" | "s" if v < 10.0 => format!("{v:.2}"),
        "MB/s" | "s" => format!("{v:.1}"),
        _ => format!("{v:.0}"),
    }
}

/// svbox's advantage over a peer: > 1 means svbox is faster or smaller.
fn gain(row: &Row, peer: usize) -> String {
    match (row.cells[0], row.cells[peer]) {
        (Some(ours), Some(theirs)) if ours.median > 0.0 && theirs.median > 0.0 => {
            let g = if row.higher_is_better {
                ours.median / theirs.median
            } else {
                theirs.median / ours.median
            };
            format!("{g:.2}")
        }
        _ => "n/a".into(),
    }
}

/// The table as Markdown, ready to paste into docs/benchmarks.md.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| metric | unit | n | svbox median | svbox p90 | runit median | runit p90 | s6-log median | s6-log p90 | svbox gain vs runit | svbox gain vs s6-log |\n\
         |---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let n = r.cells.iter().flatten().map(|s| s.n).max().unwrap_or(0);
        out.push_str(&format!("| {} | {} | {n} |", r.metric, r.unit));
        for c in &r.cells {
            match c {
                Some(s) => out.push_str(&format!(
                    " {} | {} |",
                    num(s.median, r.unit),
                    s.p90.map_or("–".into(), |p| num(p, r.unit))
                )),
                None => out.push_str(" n/a | n/a |"),
            }
        }
        out.push_str(&format!(" {} | {} |\n", gain(r, 1), gain(r, 2)));
    }
    out
}
