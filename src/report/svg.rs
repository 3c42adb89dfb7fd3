//! Inline SVG charts for the HTML reports: drawn here, so a page needs no script and fetches
//! nothing at view time. Labels go through maud, so they are escaped like every other value.

use maud::{Markup, html};

const W: f64 = 760.0;
const H: f64 = 240.0;
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 24.0;
const RIGHT: f64 = 16.0;
const COLOURS: [&str; 6] = ["#1f6feb", "#b42318", "#067647", "#b54708", "#6941c6", "#475467"];

/// One named series of (x, y) points.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
}

fn nice(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let step = 10f64.powf(max.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * step >= max {
            return m * step;
        }
    }
    10.0 * step
}

/// A line chart with a zero-based y axis, five gridlines and a legend.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series<'_>]) -> Markup {
    let xmax = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(0.0, f64::max).max(1.0);
    let ymax = nice(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, f64::max));
    let x = |v: f64| LEFT + (W - LEFT - RIGHT) * v / xmax;
    let y = |v: f64| H - BOTTOM - (H - BOTTOM - TOP) * v / ymax;
    html! {
        figure.chart {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {W} {H}")) width="100%" role="img" aria-label=(title) {
                @for i in 0..=4 {
                    @let v = ymax * f64::from(i) / 4.0;
                    line x1=(LEFT) x2=(W - RIGHT) y1=(y(v)) y2=(y(v)) stroke="#eaecf0" {}
                    text x=(LEFT - 6.0) y=(y(v) + 4.0) text-anchor="end" font-size="11" fill="#475467" { (trim(v)) }
                }
                @for i in 0..=4 {
                    @let v = xmax * f64::from(i) / 4.0;
                    text x=(x(v)) y=(H - BOTTOM + 14.0) text-anchor="middle" font-size="10" fill="#475467" { (trim(v)) }
                }
                text x=(LEFT + (W - LEFT - RIGHT) / 2.0) y=(H - 4.0) text-anchor="middle" font-size="11" fill="#475467" { (x_label) }
                text x="12" y=(TOP + (H - BOTTOM - TOP) / 2.0) text-anchor="middle" font-size="11" fill="#475467"
                    transform=(format!("rotate(-90 12 {})", TOP + (H - BOTTOM - TOP) / 2.0)) { (y_label) }
                @for (i, s) in series.iter().enumerate() {
                    @let points = s.points.iter().map(|(a, b)| format!("{:.1},{:.1}", x(*a), y(*b))).collect::<Vec<_>>().join(" ");
                    polyline fill="none" stroke=(COLOURS[i % COLOURS.len()]) stroke-width="1.6" points=(points) {}
                    rect x=(LEFT + 8.0 + 150.0 * i as f64) y="6" width="10" height="10" fill=(COLOURS[i % COLOURS.len()]) {}
                    text x=(LEFT + 22.0 + 150.0 * i as f64) y="15" font-size="11" fill="#101828" { (s.name) }
                }
            }
        }
    }
}

fn trim(v: f64) -> String {
    if v >= 100.0 || v == v.trunc() { format!("{v:.0}") } else { format!("{v:.2}").trim_end_matches('0').trim_end_matches('.').to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_round_and_labels_escaped() {
        assert_eq!(nice(0.0), 1.0);
        assert_eq!(nice(73.0), 100.0);
        assert_eq!(nice(180.0), 200.0);
        let svg =
            line_chart("p99 <script>", "s", "ms", &[Series { name: "status & co", points: vec![(0.0, 1.0), (1.0, 3.0)] }]).into_string();
        assert!(svg.contains("p99 &lt;script&gt;") && svg.contains("status &amp; co") && !svg.contains("<script>"));
        assert!(svg.contains("<polyline"));
    }
}
