//! Importing infrastructure templates: `CloudFormation` and SAM (YAML or JSON), and CDK apps
//! through their synthesized `cdk.out/*.template.json`, become version-2 scenarios.
//!
//! ```text
//!  template text ─► yaml (tree with lines, short-form tags as long forms)
//!                ─► intrinsics (parameters, conditions, Ref/GetAtt/Sub/If/Join/Select …)
//!                ─► sam (AWS::Serverless::* and Globals as plain `CloudFormation` resources)
//!                ─► mapping (resources → buses, rules, queues, topics, streams, consumers,
//!                            pipes, state machines; external placeholders)
//!                ─► traffic (one producer per entry point, events synthesized from patterns)
//!                ─► report (what each resource became, what was not modelled, assumptions)
//! ```
//!
//! The scenario is built as plain JSON (`serde_json::Value`) in the shape `scenario-format.md`
//! fixes for `eventflow/2`, so the importer depends on the file format, not on the model's Rust
//! types. Every number a template does not carry (rates, service times, partition counts,
//! stand-ins for what lies outside the file) is an assumption, listed in the scenario's
//! `description` under **Assumptions** and in the report.

mod intrinsics;
mod mapping;
pub mod report;
mod sam;
mod traffic;
pub mod yaml;

use std::collections::BTreeMap;

use serde_json::Value;

pub use report::Report;

/// The version-2 format an import writes.
pub const FORMAT_V2: &str = "eventflow/2";

/// `CloudFormation`'s quota of resources in one template: a larger template cannot be deployed,
/// so it is refused rather than half-read.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html>
pub const MAX_RESOURCES: usize = 500;

/// The largest template read (`CloudFormation` accepts 1 MB from S3; a synthesized CDK template
/// may carry inline code, so allow ten times that).
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html>
pub const MAX_TEMPLATE_BYTES: usize = 10 * 1024 * 1024;

/// What the caller sets.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--param Key=Value`: template parameters, over their `Default`s.
    pub params: BTreeMap<String, String>,
    /// The template's directory, where SAM's local `DefinitionUri` files are looked for.
    pub base_dir: Option<std::path::PathBuf>,
}

/// A template that cannot become a scenario, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// 1-based line in the template (0 when unknown).
    pub line: u32,
    /// 1-based column (0 when unknown).
    pub column: u32,
    /// The resource concerned, when there is one.
    pub logical_id: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl ImportError {
    pub(crate) fn at(line: u32, logical_id: Option<&str>, message: impl Into<String>) -> Self {
        ImportError {
            line,
            column: 0,
            logical_id: logical_id.map(str::to_owned),
            message: message.into(),
        }
    }

    /// The error in one line, prefixed with the file name: `file:line:col: Id: message`.
    #[must_use]
    pub fn render(&self, file: &str) -> String {
        let mut out = file.to_owned();
        if self.line > 0 {
            out.push_str(&format!(":{}", self.line));
            if self.column > 0 {
                out.push_str(&format!(":{}", self.column));
            }
        }
        out.push_str(": ");
        if let Some(id) = &self.logical_id {
            out.push_str(&format!("{id}: "));
        }
        out.push_str(&self.message);
        out
    }
}

/// A scenario made from a template, with its report.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The version-2 scenario as JSON.
    pub scenario: Value,
    /// What each resource became, what was left out, every assumption.
    pub report: Report,
}

/// Imports a template's text. `name` is the file name, used for the scenario's name when the
/// template has no `Description`.
///
/// # Errors
/// Text that is not YAML or JSON, not a `CloudFormation` template, a `DependsOn` cycle, a
/// reference to a name the template does not define, more than [`MAX_RESOURCES`] resources, or
/// nothing eventflow models.
pub fn import(text: &str, name: &str, options: &Options) -> Result<Imported, ImportError> {
    if text.len() > MAX_TEMPLATE_BYTES {
        return Err(ImportError::at(
            0,
            None,
            format!(
                "the template is {} bytes; the importer reads at most {MAX_TEMPLATE_BYTES}",
                text.len()
            ),
        ));
    }
    let root = yaml::parse(text).map_err(|e| ImportError {
        line: e.line,
        column: e.column,
        logical_id: None,
        message: e.message,
    })?;
    let template = intrinsics::Template::read(&root, options)?;
    let resources = sam::transform(&template, options)?;
    let mut built = mapping::build(&template, &resources)?;
    traffic::add_entry_points(&mut built);
    Ok(built.finish(&template, name))
}

/// Imports a template file (its directory is where SAM's local `DefinitionUri` files are read).
///
/// # Errors
/// An unreadable file, or any [`import`] error.
pub fn import_file(
    path: &std::path::Path,
    params: &BTreeMap<String, String>,
) -> Result<Imported, ImportError> {
    let text = crate::scenario::read_bounded(path, MAX_TEMPLATE_BYTES as u64 + 1)
        .map_err(|e| ImportError::at(0, None, format!("cannot read the template: {e}")))?;
    let options = Options {
        params: params.clone(),
        base_dir: path.parent().map(std::path::Path::to_path_buf),
    };
    let name = path.file_name().map_or_else(
        || "template".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    import(&text, &name, &options)
}

/// Whether a file name looks like a template the importer reads (`.yaml`, `.yml`,
/// `.template`, `.template.json`, or any `.json` under a `cdk.out` folder).
#[must_use]
pub fn is_template_name(path: &std::path::Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".yaml")
        || name.ends_with(".yml")
        || name.ends_with(".template")
        || name.ends_with(".template.json")
        || (name.ends_with(".json")
            && path
                .components()
                .any(|c| c.as_os_str().eq_ignore_ascii_case("cdk.out")))
}
