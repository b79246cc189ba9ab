//! The leaderboard site end to end on the demo results and claims (`report::demo`): bad
//! files are named with their reason and everything else renders; one seed shows
//! "n/a (1 seed)"; variants link to their base model and show their config; the
//! embedding-bytes plot and column appear where models differ in embedding bytes;
//! claim verdicts show on the model pages and `claims.html`; every page links only to
//! pages (and anchors) that exist; the HTML has balanced tags; the CSV and JSON
//! exports agree with the pages. The browser check is `scripts/browser-test.sh`.

use std::collections::BTreeSet;
use std::path::Path;

use harness::report::demo::{write_demo_claims, write_demo_results};
use harness::report::{load_claims, report, scan, TableOptions};

fn opts() -> TableOptions {
    let mut o = TableOptions::default();
    o.pair.resamples = 2000;
    o
}

fn site() -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    write_demo_results(&d.path().join("results")).unwrap();
    write_demo_claims(&d.path().join("claims")).unwrap();
    let claims = load_claims(&d.path().join("claims")).unwrap();
    let out = d.path().join("site");
    let r = report(&d.path().join("results"), &out, None, &claims, None, opts()).unwrap();
    assert_eq!((r.tasks, r.models), (2, 7));
    (d, out)
}

#[test]
fn bad_files_are_named_with_reasons_and_the_rest_renders() {
    let d = tempfile::tempdir().unwrap();
    write_demo_results(d.path()).unwrap();
    let loaded = scan(d.path()).unwrap();
    let reasons: Vec<String> = loaded
        .bad
        .iter()
        .map(|b| format!("{} | {}", b.path, b.reason))
        .collect();
    let has = |path: &str, why: &str| {
        assert!(
            reasons.iter().any(|r| r.contains(path) && r.contains(why)),
            "expected {path} ({why}) in {reasons:#?}"
        )
    };
    has("broken/seed-0.json", "corrupt");
    has("future/seed-0.json", "schema_version 99");
    has("dnn/seed-2.scores.bin", "truncated");
    has(
        "misplaced/seed-1.json",
        "does not match where the file lies",
    );
    assert_eq!(loaded.bad.len(), 4, "{reasons:#?}");
    assert_eq!(loaded.failed.len(), 1);
    // 7 models (3 of them variants of dnn) x 3 seeds + 2 one-seed cells.
    assert_eq!(loaded.cells.len(), 23);
}

#[test]
fn a_result_without_its_scores_file_is_used_and_counted_not_bad() {
    // Published records (results/published) keep only the JSON; a missing side file
    // is a note, a truncated one stays bad.
    let d = tempfile::tempdir().unwrap();
    write_demo_results(d.path()).unwrap();
    let before = scan(d.path()).unwrap();
    let with_scores: Vec<_> = before
        .cells
        .iter()
        .filter(|c| c.scores.is_some())
        .filter_map(|c| Some(c.path.with_file_name(c.result.scores_file.as_ref()?)))
        .take(2)
        .collect();
    assert_eq!(with_scores.len(), 2);
    for p in &with_scores {
        std::fs::remove_file(p).unwrap();
    }
    let after = scan(d.path()).unwrap();
    assert_eq!(after.cells.len(), before.cells.len());
    assert_eq!(after.bad, before.bad);
    assert!(
        after
            .notes
            .iter()
            .any(|n| n.starts_with("2 cells have no per-example or per-user file")),
        "{:#?}",
        after.notes
    );
    assert!(!before.notes.iter().any(|n| n.contains("per-user file")));
}

#[test]
fn nothing_renderable_is_an_error_that_names_the_files() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("r/t/m");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("seed-0.json"), b"not json").unwrap();
    let err = report(d.path(), &d.path().join("site"), None, &[], None, opts()).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("seed-0.json") && msg.contains("no usable result"),
        "{msg}"
    );
}

#[test]
fn pages_tables_and_exports() {
    let (_d, out) = site();
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    for needle in [
        "broken",
        "corrupt",
        "schema_version 99",
        "demo-ctr",
        "gap closed",
        "oracle unknown",
    ] {
        assert!(index.contains(needle), "index lacks {needle}");
    }
    let task = std::fs::read_to_string(out.join("task-demo-ctr.html")).unwrap();
    for needle in [
        "<svg",
        "Pareto front",
        "paired t, Holm",
        "diverged: NaN training loss",
        "per example",
        "seed 0:",
        // Each row names the build its records come from.
        "build 0123456789ab",
    ] {
        assert!(task.contains(needle), "task page lacks {needle}");
    }
    // Pareto front vs FLOPs: lr (cheapest), dnn, dcnv2 (each better than all cheaper
    // ones); newmodel is costlier and worse than dcnv2, the variants (46.5k FLOPs) are
    // costlier than dnn and worse. Front points get a red ring.
    assert_eq!(front(plot(&task, "flops")), ["dcnv2", "dnn", "lr"]);
    // Vs embedding bytes: dnn_bh_10x (15.6 KiB, AUC 0.666) beats dnn_hash_10x at the
    // same size; dnn_mde (46.9 KiB) is worse; of the full tables (156.2 KiB) dcnv2 is
    // best. Every point is plotted, so the demo's seven models are all there.
    let bytes = plot(&task, "embedding-bytes");
    assert_eq!(front(bytes), ["dcnv2", "dnn_bh_10x"]);
    assert_eq!(bytes.matches(r#"<g class="pt">"#).count(), 7);
    assert!(task.contains("Accuracy vs embedding memory") && task.contains("46.9 KiB"));
    // Variant rows name their base model and show what their config changes.
    assert!(task.contains(r#"variant of <a href="model-dnn.html">dnn</a>"#));
    assert!(task.contains(
        "{&quot;embedding&quot;:{&quot;buckets&quot;:83,&quot;kind&quot;:&quot;hash&quot;}}"
    ));
    let one = std::fs::read_to_string(out.join("task-demo-one-seed.html")).unwrap();
    assert!(one.contains("n/a (1 seed)"));
    assert!(
        one.contains("not measured yet"),
        "missing costs must say so"
    );
    assert!(one.contains("No plot: FLOPs/example not measured yet"));
    assert!(
        !one.contains("Accuracy vs embedding memory"),
        "no bytes plot when models do not differ in embedding bytes"
    );
    assert!(!one.contains("± 0.00000"), "no zero-width intervals");
    let model = std::fs::read_to_string(out.join("model-dcnv2.html")).unwrap();
    assert!(model.contains("DCN V2") && model.contains("simplifies"));
    let newm = std::fs::read_to_string(out.join("model-newmodel.html")).unwrap();
    assert!(newm.contains("not in the model registry"));
    // CSV: header + one row per (task, model), with embedding bytes and base model.
    let csv = std::fs::read_to_string(out.join("leaderboard.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(csv.as_bytes());
    let header = rd.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 7 + 2);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mde = rows.iter().find(|r| &r[col("model")] == "dnn_mde").unwrap();
    assert_eq!(
        (&mde[col("embedding_bytes")], &mde[col("base_model")]),
        ("48000", "dnn")
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("leaderboard.json")).unwrap())
            .unwrap();
    assert_eq!(json["tasks"].as_array().unwrap().len(), 2);
    assert_eq!(json["bad_files"].as_array().unwrap().len(), 4);
}

#[test]
fn rank_groups_follow_the_paired_t_test() {
    let (_d, out) = site();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("leaderboard.json")).unwrap())
            .unwrap();
    let t = &json["tasks"][0];
    assert_eq!(t["task"], "demo-ctr");
    for r in t["rows"].as_array().unwrap() {
        // Group 1 members are exactly those not significantly worse than the best.
        let g1 = r["group"] == 1;
        let sig = r["delta"]["significant"].as_bool().unwrap_or(false);
        assert!(g1 != sig || r["is_best"].as_bool().unwrap(), "{r}");
    }
    // lr (noisiest scores) is significantly worse than the leader.
    let lr = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "lr")
        .unwrap();
    assert!(lr["group"].as_u64().unwrap() > 1, "{lr}");
}

/// Verdicts on `claims.html`, the index and the pages of the models each claim names.
#[test]
fn claim_verdicts_are_computed_and_shown() {
    let (_d, out) = site();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("leaderboard.json")).unwrap())
            .unwrap();
    let verdicts: Vec<(String, String)> = json["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["claim"]["id"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("demo-bh-beats-hash", "reproduced"),
        ("demo-bh-keeps", "inconclusive"),
        ("demo-newmodel-better", "not_reproduced"),
        ("demo-not-run", "not_run"),
        ("demo-one-seed", "inconclusive"),
    ];
    assert_eq!(verdicts, want.map(|(a, b)| (a.to_string(), b.to_string())));
    let claims = std::fs::read_to_string(out.join("claims.html")).unwrap();
    for (id, _) in want {
        assert!(claims.contains(&format!(r#"id="claim-{id}""#)), "{id}");
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains(r#"href="claims.html""#));
    // The BH page shows both its claims with our figures and verdicts.
    let bh = std::fs::read_to_string(out.join("model-dnn_bh_10x.html")).unwrap();
    assert!(bh.contains("A variant of <a href=\"model-dnn.html\">dnn</a>"));
    assert!(bh.contains("claim-demo-bh-beats-hash") && bh.contains("claim-demo-bh-keeps"));
    assert!(bh.contains("Δ auc (A − B) +0.0") && bh.contains(">reproduced<"));
    assert!(
        bh.contains("&quot;kind&quot;:&quot;bh&quot;"),
        "the variant's config"
    );
    // ... and cites its embedding strategy's own paper (its registry entry).
    assert!(
        bh.contains("Embedding strategy <code>bh</code>") && bh.contains("arXiv 2109.02471"),
        "the strategy's paper"
    );
    // A claim whose cells are missing says which and how to make them.
    let dcn = std::fs::read_to_string(out.join("model-dcnv2.html")).unwrap();
    assert!(
        dcn.contains(">not run<")
            && dcn.contains("recbench run demo-ctr --models apg_dcnv2 --seeds 3")
    );
    assert!(dcn.contains("Why it may not reproduce here"));
    // The base model's page lists its variants; the newmodel claim is on its page only.
    let dnn = std::fs::read_to_string(out.join("model-dnn.html")).unwrap();
    assert!(dnn.contains(r#"<a href="model-dnn_mde.html">dnn_mde</a>"#));
    assert!(!dnn.contains("claim-demo-newmodel-better"));
    // ... and the claims checked on its variants (BH is a configuration of the DNN).
    assert!(dnn.contains("claim-demo-bh-beats-hash") && dnn.contains("claim-demo-bh-keeps"));
    let newm = std::fs::read_to_string(out.join("model-newmodel.html")).unwrap();
    assert!(newm.contains(">not reproduced<") && newm.contains("no significant difference"));
    // A page no claim names says so, and a variant's points to its base model's claims.
    let mde = std::fs::read_to_string(out.join("model-dnn_mde.html")).unwrap();
    assert!(mde.contains(r#"id="no-claims""#) && !mde.contains("claim-demo-"));
    assert!(mde.contains(r#"claims about <a href="model-dnn.html">dnn</a> are on its page"#));
    assert!(!bh.contains(r#"id="no-claims""#) && !newm.contains(r#"id="no-claims""#));
}

/// The SVG plot of `page` whose title id ends in `key`.
fn plot<'a>(page: &'a str, key: &str) -> &'a str {
    let start = page
        .find(&format!(r#"aria-labelledby="plot-title-{key}""#))
        .unwrap_or_else(|| panic!("no {key} plot"));
    let start = page[..start].rfind("<svg").unwrap();
    let end = start + page[start..].find("</svg>").unwrap();
    &page[start..end]
}

/// Models whose point carries the Pareto front's red ring, sorted.
fn front(svg: &str) -> Vec<String> {
    let mut v: Vec<String> = svg
        .split(r#"<g class="pt"><title>"#)
        .skip(1)
        .filter(|g| g[..g.find("</g>").unwrap()].contains(r##"stroke="#cf222e" stroke-width="2""##))
        .map(|g| g[..g.find(':').unwrap()].to_string())
        .collect();
    v.sort();
    v
}

/// Links between pages point at files that exist; tags balance.
#[test]
fn html_links_resolve_and_tags_balance() {
    let (_d, out) = site();
    let pages: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    // index, claims, 2 tasks, 7 models.
    assert_eq!(pages.len(), 1 + 1 + 2 + 7);
    for p in &pages {
        let html = std::fs::read_to_string(p).unwrap();
        for link in attr_values(&html, "href")
            .into_iter()
            .chain(attr_values(&html, "src"))
        {
            if link.starts_with("data:") || link.starts_with('#') {
                continue;
            }
            let (link, anchor) = match link.split_once('#') {
                Some((f, a)) => (f.to_string(), Some(a.to_string())),
                None => (link, None),
            };
            assert!(
                !link.contains("://"),
                "{}: external reference {link} (the site must be self-contained)",
                p.display()
            );
            assert!(
                Path::new(&out).join(&link).is_file(),
                "{}: broken link {link}",
                p.display()
            );
            if let Some(a) = anchor {
                let target = std::fs::read_to_string(Path::new(&out).join(&link)).unwrap();
                assert!(
                    target.contains(&format!("id=\"{a}\"")),
                    "{}: no anchor #{a} in {link}",
                    p.display()
                );
            }
        }
        check_balanced(&html).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
}

fn attr_values(html: &str, attr: &str) -> BTreeSet<String> {
    let pat = format!("{attr}=\"");
    html.match_indices(&pat)
        .map(|(i, _)| {
            let rest = &html[i + pat.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

/// Every non-void element closes, in order (script bodies and comments skipped).
fn check_balanced(html: &str) -> Result<(), String> {
    const VOID: &[&str] = &[
        "meta", "link", "br", "hr", "img", "input", "!doctype", "circle", "line", "rect", "path",
    ];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with("!--") {
            rest = &rest[rest.find("-->").ok_or("unclosed comment")? + 3..];
            continue;
        }
        let end = rest.find('>').ok_or("unclosed tag")?;
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let self_closing = tag.ends_with('/');
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect::<String>()
            .to_lowercase();
        if closing {
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else if !self_closing && !VOID.contains(&name.as_str()) {
            if name == "script" || name == "style" {
                let close = format!("</{name}>");
                rest = &rest[rest.find(&close).ok_or("unclosed script/style")? + close.len()..];
                continue;
            }
            stack.push(name);
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}
