//! Rendering the site with minijinja: `index.html`, `task-<slug>.html`,
//! `model-<slug>.html`, `claims.html`, plus `leaderboard.csv` and `leaderboard.json` with the same
//! tables. Templates come from a directory (default `templates/`, so they can be edited
//! without rebuilding) and fall back, file by file, to the copies compiled into the
//! binary, so `recbench report` works from any directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use minijinja::{context, Environment};

use super::tables::SiteData;

/// Template files and their compiled-in copies.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../../templates/base.html")),
    ("index.html", include_str!("../../../templates/index.html")),
    ("task.html", include_str!("../../../templates/task.html")),
    ("model.html", include_str!("../../../templates/model.html")),
    (
        "claims.html",
        include_str!("../../../templates/claims.html"),
    ),
    ("claim.html", include_str!("../../../templates/claim.html")),
];

/// Where each template came from, for the log.
#[derive(Debug, Clone)]
pub struct TemplateSources {
    pub sources: Vec<(String, String)>,
    pub from_dir: Vec<String>,
}

/// Loads templates from `dir` where present, else the embedded copies.
pub fn load_templates(dir: Option<&Path>) -> Result<TemplateSources> {
    let mut sources = Vec::new();
    let mut from_dir = Vec::new();
    for (name, embedded) in TEMPLATES {
        let file = dir.map(|d| d.join(name)).filter(|p| p.is_file());
        let src = match file {
            Some(p) => {
                from_dir.push(p.display().to_string());
                std::fs::read_to_string(&p).with_context(|| format!("{}", p.display()))?
            }
            None => embedded.to_string(),
        };
        sources.push((name.to_string(), src));
    }
    Ok(TemplateSources { sources, from_dir })
}

/// Files written, relative to the output folder.
pub fn render(site: &SiteData, templates: &TemplateSources, out: &Path) -> Result<Vec<PathBuf>> {
    let mut env = Environment::new();
    for (name, src) in &templates.sources {
        env.add_template(name, src)
            .with_context(|| format!("template {name}"))?;
    }
    std::fs::create_dir_all(out).with_context(|| format!("{}", out.display()))?;
    let mut written = Vec::new();
    let mut write = |name: String, body: String| -> Result<()> {
        let p = out.join(&name);
        crate::results::write_atomic(&p, body.as_bytes())
            .with_context(|| format!("{}", p.display()))?;
        written.push(PathBuf::from(name));
        Ok(())
    };
    let index = env
        .get_template("index.html")?
        .render(context! { site => site, page => "index", prov => &site.provenance })
        .context("rendering index.html")?;
    write("index.html".into(), index)?;
    for t in &site.tasks {
        let html = env
            .get_template("task.html")?
            .render(context! { site => site, task => t, plot => &t.plot_svg, bytes_plot => &t.bytes_plot_svg, page => "task", prov => &t.provenance })
            .with_context(|| format!("rendering task {}", t.task))?;
        write(format!("task-{}.html", t.slug), html)?;
    }
    for m in &site.models {
        let html = env
            .get_template("model.html")?
            .render(context! { site => site, model => m, page => "model", prov => &m.provenance })
            .with_context(|| format!("rendering model {}", m.model))?;
        write(format!("model-{}.html", m.slug), html)?;
    }
    let claims = env
        .get_template("claims.html")?
        .render(context! { site => site, page => "claims", prov => &site.provenance })
        .context("rendering claims.html")?;
    write("claims.html".into(), claims)?;
    write("leaderboard.csv".into(), super::tables::to_csv(site))?;
    write(
        "leaderboard.json".into(),
        serde_json::to_string_pretty(site).expect("site serializes"),
    )?;
    Ok(written)
}
