//! `eventflow import TEMPLATE [-o OUT] [--param K=V]… [--json] [--report FILE]`: a `CloudFormation`,
//! SAM or synthesized CDK template becomes a version-2 scenario; the import report goes to
//! stderr (or `--report FILE`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{EXIT_INTERNAL, invalid};
use crate::import;

/// Flags of `eventflow import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Template file: YAML or JSON (`CloudFormation`, SAM, or `cdk.out/*.template.json`).
    pub template: PathBuf,
    /// Where to write the scenario (default: the template's name with `.eventflow.json`).
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub out: Option<PathBuf>,
    /// A template parameter's value, over its Default (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write the report to this file instead of stderr.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {text}")),
    }
}

/// The default output: `orders.yaml` → `orders.eventflow.json` beside it.
fn default_out(template: &std::path::Path) -> PathBuf {
    let name = template
        .file_name()
        .map_or_else(|| "template".into(), |n| n.to_string_lossy().into_owned());
    let stem = [".template.json", ".json", ".yaml", ".yml", ".template"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(&name)
        .to_owned();
    template.with_file_name(format!("{stem}.eventflow.json"))
}

/// Runs `eventflow import`.
#[must_use]
pub fn run(args: &ImportArgs) -> ExitCode {
    let mut params = BTreeMap::new();
    for (k, v) in &args.params {
        params.insert(k.clone(), v.clone());
    }
    let file = args.template.display().to_string();
    let imported = match import::import_file(&args.template, &params) {
        Ok(i) => i,
        Err(e) => return invalid(format!("import: {}", e.render(&file))),
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.template));
    let text = match serde_json::to_string_pretty(&imported.scenario) {
        Ok(t) => t + "\n",
        Err(e) => {
            eprintln!("import: cannot write the scenario: {e}");
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    if let Err(e) = write_atomic(&out, &text) {
        return invalid(format!("import: cannot write {}: {e}", out.display()));
    }
    let report = if args.json {
        imported.report.json() + "\n"
    } else {
        format!("{}\nwrote {}\n", imported.report.text(), out.display())
    };
    match &args.report {
        Some(path) => {
            if let Err(e) = write_atomic(path, &report) {
                return invalid(format!(
                    "import: cannot write the report {}: {e}",
                    path.display()
                ));
            }
            eprintln!(
                "import: wrote {} (report: {})",
                out.display(),
                path.display()
            );
        }
        None => eprint!("{report}"),
    }
    ExitCode::SUCCESS
}

fn write_atomic(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.map_or_else(
        || PathBuf::from(format!(".{name}.tmp")),
        |d| d.join(format!(".{name}.tmp")),
    );
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_outputs_sit_beside_the_template() {
        assert_eq!(
            default_out(std::path::Path::new("a/orders.yaml")),
            PathBuf::from("a/orders.eventflow.json")
        );
        assert_eq!(
            default_out(std::path::Path::new("cdk.out/App.template.json")),
            PathBuf::from("cdk.out/App.eventflow.json")
        );
    }

    #[test]
    fn params_are_key_value() {
        assert_eq!(parse_param("Env=prod"), Ok(("Env".into(), "prod".into())));
        assert_eq!(parse_param("Url=a=b"), Ok(("Url".into(), "a=b".into())));
        assert!(parse_param("novalue").is_err());
    }
}
