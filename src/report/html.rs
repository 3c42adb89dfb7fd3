//! Self-contained HTML reports: one page, inline CSS, nothing fetched at view time, every value
//! escaped (maud escapes whatever it interpolates). The page shell is shared by every report
//! that has an `--html`.

use maud::{DOCTYPE, Markup, PreEscaped, html};

const STYLE: &str = r#"
:root { --fail: #b42318; --warn: #b54708; --ok: #067647; --muted: #475467; --line: #eaecf0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #101828; background: #f9fafb; }
header { padding: 20px 28px; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 20px; }
main { padding: 20px 28px; max-width: 1200px; }
.verdict { display: inline-block; padding: 3px 10px; border-radius: 12px; font-weight: 600; color: #fff; }
.verdict.fail { background: var(--fail); } .verdict.ok { background: var(--ok); } .verdict.warn { background: var(--warn); }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; background: #fff; margin: 8px 0 20px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { white-space: pre-wrap; word-break: break-all; background: #f2f4f7; padding: 8px; border-radius: 4px; margin: 4px 0; }
details { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 8px 12px; }
summary { cursor: pointer; font-weight: 600; }
.kind-candidate_breaks { color: var(--fail); } .kind-baseline_breaks { color: var(--ok); } .kind-allowed { color: var(--warn); }
.tag { display: inline-block; padding: 0 6px; border-radius: 4px; background: #eef4ff; color: #3538cd; font-size: 12px; }
"#;

/// A whole page: `title` in the header with `subtitle` under it, then `body`.
pub fn page(title: &str, subtitle: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { h1 { (title) } div.muted { (subtitle) } }
                main { (body) }
            }
        }
    }
    .into_string()
}
