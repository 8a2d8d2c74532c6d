//! The template's sections and `CloudFormation`'s intrinsic functions, resolved as far as one
//! file allows.
//!
//! Parameters take `--param` values, else their `Default`; pseudo-parameters get fixed
//! placeholders (the account and region are the ones the engine stamps on events, so patterns
//! naming `${AWS::AccountId}` match the events it makes); `Conditions` are evaluated and
//! resources whose `Condition` is false are left out. `Ref` and `Fn::GetAtt` of a resource
//! resolve to its logical id (its component's id); inside `Fn::Sub` text they become the
//! resource's physical name when the template gives one. What one file cannot know
//! (`Fn::ImportValue`, a parameter without a value, a nested stack's outputs, `AWS::Include`)
//! resolves to an [`EXTERNAL`]-prefixed string that the mapping turns into a placeholder, and
//! an assumption is noted. A `Ref`, `GetAtt`, `Sub` variable or `DependsOn` naming nothing
//! the template defines is an error with its line, as `CloudFormation` refuses such templates.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::yaml::{Node, V};
use super::{ImportError, MAX_RESOURCES, Options};
use crate::model::defaults::{ENVELOPE_ACCOUNT, ENVELOPE_REGION};

/// Prefix of a value that lies outside the template: `external:<name>`.
pub const EXTERNAL: &str = "external:";

/// `AWS::StackName`'s placeholder.
pub const STACK_NAME: &str = "stack";

/// One resource as written.
#[derive(Clone, Debug)]
pub struct RawResource {
    /// Logical id.
    pub id: String,
    /// `Type`.
    pub kind: String,
    /// Line of the logical id.
    pub line: u32,
    /// `Properties` (an empty mapping when absent).
    pub props: Node,
}

/// A read template: sections, parameter values, conditions, and the resources that exist.
pub struct Template {
    /// `Description`, when a plain string.
    pub description: Option<String>,
    /// The resources whose `Condition` holds, in file order.
    pub resources: Vec<RawResource>,
    /// Resources left out by a false condition: logical id → (type, condition).
    pub excluded: Vec<(String, String, String, u32)>,
    /// `Globals` (SAM).
    pub globals: Option<Node>,
    /// Whether the template declares the SAM transform.
    pub sam: bool,
    params: BTreeMap<String, Value>,
    conditions: BTreeMap<String, bool>,
    mappings: Value,
    /// Physical names by logical id, for `Fn::Sub` text.
    names: BTreeMap<String, String>,
    types: BTreeMap<String, String>,
    notes: RefCell<Vec<String>>,
}

fn err(node: &Node, id: Option<&str>, message: impl Into<String>) -> ImportError {
    ImportError::at(node.line, id, message)
}

/// The property that carries each type's physical name.
fn name_property(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "AWS::Events::EventBus" | "AWS::Pipes::Pipe" | "AWS::Kinesis::Stream" => "Name",
        "AWS::Events::ApiDestination" | "AWS::Events::Archive" => "Name",
        "AWS::Events::Rule" => "Name",
        "AWS::SQS::Queue" => "QueueName",
        "AWS::SNS::Topic" => "TopicName",
        "AWS::Lambda::Function" | "AWS::Serverless::Function" => "FunctionName",
        "AWS::DynamoDB::Table" => "TableName",
        "AWS::StepFunctions::StateMachine" => "StateMachineName",
        "AWS::Serverless::StateMachine" => "Name",
        "AWS::S3::Bucket" => "BucketName",
        _ => return None,
    })
}

impl Template {
    /// Reads the sections, evaluates parameters and conditions, and checks `DependsOn`.
    pub fn read(root: &Node, options: &Options) -> Result<Template, ImportError> {
        if !matches!(root.v, V::Map(_)) {
            return Err(err(
                root,
                None,
                "not a CloudFormation template: the top level must be a mapping with `Resources`",
            ));
        }
        let Some(resources) = root.get("Resources") else {
            return Err(err(
                root,
                None,
                "not a CloudFormation template: it has no `Resources` section",
            ));
        };
        if !matches!(resources.v, V::Map(_)) {
            return Err(err(
                resources,
                None,
                "not a CloudFormation template: `Resources` must be a mapping of logical ids",
            ));
        }
        if resources.entries().len() > MAX_RESOURCES {
            return Err(err(
                resources,
                None,
                format!(
                    "the template has {} resources; CloudFormation allows at most {MAX_RESOURCES} in one template",
                    resources.entries().len()
                ),
            ));
        }
        let sam = match root.get("Transform").map(|t| &t.v) {
            Some(V::Str(s)) => s.starts_with("AWS::Serverless"),
            Some(V::Seq(items)) => items
                .iter()
                .any(|t| t.as_str().is_some_and(|s| s.starts_with("AWS::Serverless"))),
            _ => false,
        };
        let mut t = Template {
            description: root
                .get("Description")
                .and_then(Node::as_str)
                .map(str::to_owned),
            resources: Vec::new(),
            excluded: Vec::new(),
            globals: root.get("Globals").cloned(),
            sam,
            params: BTreeMap::new(),
            conditions: BTreeMap::new(),
            mappings: root.get("Mappings").map_or(Value::Null, Node::to_json),
            names: BTreeMap::new(),
            types: BTreeMap::new(),
            notes: RefCell::new(Vec::new()),
        };
        t.read_parameters(root.get("Parameters"), options)?;
        let mut all = Vec::new();
        for (id, line, body) in resources.entries() {
            let Some(kind) = body.get("Type").and_then(Node::as_str) else {
                return Err(ImportError::at(
                    *line,
                    Some(id),
                    "not a CloudFormation resource: it has no `Type`",
                ));
            };
            if id.starts_with("Fn::ForEach") {
                t.note(format!(
                    "{id}: `Fn::ForEach` (AWS::LanguageExtensions) is not expanded; its resources are left out"
                ));
                continue;
            }
            t.types.insert(id.clone(), kind.to_owned());
            all.push((id.clone(), kind.to_owned(), *line, body.clone()));
        }
        t.evaluate_conditions(root.get("Conditions"))?;
        check_depends_on(&all)?;
        for (id, kind, line, body) in all {
            if let Some(c) = body.get("Condition") {
                let Some(name) = c.as_str() else {
                    return Err(err(c, Some(&id), "`Condition` must name a condition"));
                };
                let Some(&holds) = t.conditions.get(name) else {
                    return Err(err(
                        c,
                        Some(&id),
                        format!("`Condition: {name}` names no condition in `Conditions`"),
                    ));
                };
                if !holds {
                    t.excluded.push((id, kind, name.to_owned(), line));
                    continue;
                }
            }
            let props = body.get("Properties").cloned().unwrap_or(Node {
                line,
                v: V::Map(Vec::new()),
            });
            t.resources.push(RawResource {
                id,
                kind,
                line,
                props,
            });
        }
        // Physical names, for `Fn::Sub` text: resolved with names not yet known.
        let mut names = BTreeMap::new();
        for r in &t.resources {
            if let Some(p) = name_property(&r.kind)
                && let Some(n) = r.props.get(p)
                && let Ok(Some(Value::String(s))) = t.resolve(n, &r.id)
                && !s.starts_with(EXTERNAL)
            {
                names.insert(r.id.clone(), s);
            }
        }
        t.names = names;
        Ok(t)
    }

    fn read_parameters(
        &mut self,
        params: Option<&Node>,
        options: &Options,
    ) -> Result<(), ImportError> {
        let declared: BTreeSet<&str> = params
            .map(|p| p.entries().iter().map(|(k, _, _)| k.as_str()).collect())
            .unwrap_or_default();
        for key in options.params.keys() {
            if !declared.contains(key.as_str()) {
                let mut known: Vec<&str> = declared.iter().copied().collect();
                known.sort_unstable();
                return Err(ImportError::at(
                    0,
                    None,
                    format!(
                        "--param {key}: the template declares no parameter {key}{}",
                        if known.is_empty() {
                            " (it declares none)".to_owned()
                        } else {
                            format!(" (it declares {})", known.join(", "))
                        }
                    ),
                ));
            }
        }
        let Some(params) = params else { return Ok(()) };
        for (name, _, p) in params.entries() {
            let list = p
                .get("Type")
                .and_then(Node::as_str)
                .is_some_and(|t| t.starts_with("List<") || t == "CommaDelimitedList");
            let value = if let Some(v) = options.params.get(name) {
                Value::String(v.clone())
            } else if let Some(d) = p.get("Default") {
                match d.to_json() {
                    Value::Number(n) => Value::String(n.to_string()),
                    Value::Bool(b) => Value::String(b.to_string()),
                    other => other,
                }
            } else {
                self.note(format!(
                    "parameter {name} has no Default: it stands for something outside the template (set it with --param {name}=VALUE)"
                ));
                Value::String(format!("{EXTERNAL}{name}"))
            };
            let value = match value {
                Value::String(s) if list && !s.starts_with(EXTERNAL) => Value::Array(
                    s.split(',')
                        .map(|x| Value::String(x.trim().to_owned()))
                        .collect(),
                ),
                other => other,
            };
            self.params.insert(name.clone(), value);
        }
        Ok(())
    }

    fn evaluate_conditions(&mut self, conditions: Option<&Node>) -> Result<(), ImportError> {
        let Some(conditions) = conditions else {
            return Ok(());
        };
        let defs: BTreeMap<String, Node> = conditions
            .entries()
            .iter()
            .map(|(k, _, n)| (k.clone(), n.clone()))
            .collect();
        for name in defs.keys() {
            let mut visiting = Vec::new();
            self.condition(name, &defs, &mut visiting, conditions)?;
        }
        Ok(())
    }

    fn condition(
        &mut self,
        name: &str,
        defs: &BTreeMap<String, Node>,
        visiting: &mut Vec<String>,
        at: &Node,
    ) -> Result<bool, ImportError> {
        if let Some(&b) = self.conditions.get(name) {
            return Ok(b);
        }
        let Some(def) = defs.get(name) else {
            return Err(err(
                at,
                None,
                format!("condition {name} is not defined in `Conditions`"),
            ));
        };
        if visiting.iter().any(|v| v == name) {
            visiting.push(name.to_owned());
            return Err(err(
                def,
                None,
                format!(
                    "the conditions refer to each other in a cycle: {}",
                    visiting.join(" → ")
                ),
            ));
        }
        visiting.push(name.to_owned());
        // Conditions a condition names are evaluated first.
        let mut names = Vec::new();
        collect_condition_names(def, &mut names);
        for n in names {
            self.condition(&n, defs, visiting, def)?;
        }
        visiting.pop();
        let v = self.resolve(def, name)?.unwrap_or(Value::Null);
        let b = truthy(&v).ok_or_else(|| {
            err(
                def,
                None,
                format!("condition {name} does not evaluate to true or false"),
            )
        })?;
        self.conditions.insert(name.to_owned(), b);
        Ok(b)
    }

    /// A logical id SAM's transform generates from a `AWS::Serverless::*` resource (`F.Alias`,
    /// `F.Version`, `FRole`, `F<EventName>`, `ServerlessRestApi` …): the id of what it refers
    /// to (the function for its alias or version), or `None` if SAM makes no such id.
    /// <https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-generated-resources.html>
    fn sam_generated(&self, name: &str) -> Option<String> {
        if !self.sam {
            return None;
        }
        if matches!(
            name,
            "ServerlessRestApi" | "ServerlessHttpApi" | "ServerlessDeploymentBucket"
        ) {
            return Some(name.to_owned());
        }
        if let Some((base, suffix)) = name.split_once('.')
            && matches!(suffix, "Alias" | "Version")
            && self
                .types
                .get(base)
                .is_some_and(|t| t.starts_with("AWS::Serverless::"))
        {
            return Some(base.to_owned());
        }
        self.types
            .iter()
            .filter(|(id, t)| {
                t.starts_with("AWS::Serverless::")
                    && name.starts_with(id.as_str())
                    && name.len() > id.len()
            })
            .max_by_key(|(id, _)| id.len())
            .map(|_| name.to_owned())
    }

    /// Notes an assumption made while resolving.
    pub fn note(&self, text: String) {
        let mut notes = self.notes.borrow_mut();
        if !notes.contains(&text) {
            notes.push(text);
        }
    }

    /// The assumptions noted while resolving.
    pub fn notes(&self) -> Vec<String> {
        self.notes.borrow().clone()
    }

    /// The type of a logical id that exists in the file (left out or not).
    pub fn type_of(&self, id: &str) -> Option<&str> {
        self.types.get(id).map(String::as_str)
    }

    /// A physical name the template gives a resource.
    pub fn physical_name(&self, id: &str) -> Option<&str> {
        self.names.get(id).map(String::as_str)
    }

    /// Resolves a value; `None` is `AWS::NoValue` (the key or item is dropped).
    pub fn resolve(&self, node: &Node, owner: &str) -> Result<Option<Value>, ImportError> {
        match &node.v {
            V::Null => Ok(Some(Value::Null)),
            V::Bool(b) => Ok(Some(Value::Bool(*b))),
            V::Num(n) => Ok(Some(Value::Number(n.clone()))),
            V::Str(s) => Ok(Some(Value::String(s.clone()))),
            V::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    if let Some(v) = self.resolve(i, owner)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            V::Map(entries) => {
                if let [(key, _, arg)] = entries.as_slice()
                    && (key == "Ref" || key.starts_with("Fn::") || key == "Condition")
                {
                    return self.intrinsic(key, arg, node, owner);
                }
                let mut out = Map::new();
                for (k, _, v) in entries {
                    if let Some(v) = self.resolve(v, owner)? {
                        out.insert(k.clone(), v);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
        }
    }

    fn value(&self, node: &Node, owner: &str) -> Result<Value, ImportError> {
        Ok(self.resolve(node, owner)?.unwrap_or(Value::Null))
    }

    fn intrinsic(
        &self,
        key: &str,
        arg: &Node,
        at: &Node,
        owner: &str,
    ) -> Result<Option<Value>, ImportError> {
        let id = Some(owner);
        let args = |n: usize| -> Result<&[Node], ImportError> {
            match &arg.v {
                V::Seq(items) if items.len() == n => Ok(items.as_slice()),
                _ => Err(err(at, id, format!("{key} takes a list of {n} values"))),
            }
        };
        Ok(Some(match key {
            "Ref" => {
                let Some(name) = arg.as_str() else {
                    return Err(err(at, id, "Ref takes a name"));
                };
                return self.reference(name, at, owner);
            }
            "Condition" => {
                let Some(name) = arg.as_str() else {
                    return Err(err(at, id, "Condition takes a name"));
                };
                Value::Bool(*self.conditions.get(name).ok_or_else(|| {
                    err(
                        at,
                        id,
                        format!("condition {name} is not defined in `Conditions`"),
                    )
                })?)
            }
            "Fn::GetAtt" => {
                let (res, attr) = match &arg.v {
                    V::Seq(items) if items.len() == 2 => {
                        let attr = self.value(&items[1], owner)?;
                        (
                            items[0].as_str().unwrap_or_default().to_owned(),
                            attr.as_str().unwrap_or_default().to_owned(),
                        )
                    }
                    V::Str(s) => {
                        let (r, a) = s.split_once('.').unwrap_or((s, ""));
                        (r.to_owned(), a.to_owned())
                    }
                    _ => return Err(err(at, id, "Fn::GetAtt takes [Resource, Attribute]")),
                };
                return self.get_att(&res, &attr, at, owner, false);
            }
            "Fn::Sub" => {
                let (text, vars) = match &arg.v {
                    V::Str(s) => (s.clone(), Map::new()),
                    V::Seq(items) if items.len() == 2 => {
                        let text = self.value(&items[0], owner)?;
                        let Some(text) = text.as_str() else {
                            return Err(err(at, id, "Fn::Sub's first value must be a string"));
                        };
                        let Value::Object(vars) = self.value(&items[1], owner)? else {
                            return Err(err(at, id, "Fn::Sub's second value must be a mapping"));
                        };
                        (text.to_owned(), vars)
                    }
                    _ => return Err(err(at, id, "Fn::Sub takes a string or [string, mapping]")),
                };
                Value::String(self.sub(&text, &vars, at, owner)?)
            }
            "Fn::Join" => {
                let a = args(2)?;
                let delim = self.value(&a[0], owner)?;
                let list = self.value(&a[1], owner)?;
                let Value::Array(items) = list else {
                    return Err(err(at, id, "Fn::Join's second value must be a list"));
                };
                Value::String(
                    items
                        .iter()
                        .map(text_of)
                        .collect::<Vec<_>>()
                        .join(delim.as_str().unwrap_or("")),
                )
            }
            "Fn::Select" => {
                let a = args(2)?;
                let index = self.value(&a[0], owner)?;
                let list = self.value(&a[1], owner)?;
                let i = index
                    .as_u64()
                    .or_else(|| index.as_str().and_then(|s| s.trim().parse().ok()));
                match (i, list) {
                    (Some(i), Value::Array(items)) => match items.get(i as usize) {
                        Some(v) => v.clone(),
                        None => {
                            return Err(err(
                                at,
                                id,
                                format!(
                                    "Fn::Select: index {i} is past the list's {} items",
                                    items.len()
                                ),
                            ));
                        }
                    },
                    (_, Value::String(s)) if s.starts_with(EXTERNAL) => Value::String(s),
                    _ => return Err(err(at, id, "Fn::Select takes [index, list]")),
                }
            }
            "Fn::Split" => {
                let a = args(2)?;
                let delim = self.value(&a[0], owner)?;
                let text = self.value(&a[1], owner)?;
                match (delim.as_str(), text.as_str()) {
                    (Some(d), Some(t)) if !d.is_empty() => {
                        Value::Array(t.split(d).map(|x| Value::String(x.to_owned())).collect())
                    }
                    _ => return Err(err(at, id, "Fn::Split takes [delimiter, string]")),
                }
            }
            "Fn::If" => {
                let a = args(3)?;
                let Some(name) = a[0].as_str() else {
                    return Err(err(at, id, "Fn::If's first value must name a condition"));
                };
                let Some(&holds) = self.conditions.get(name) else {
                    return Err(err(
                        at,
                        id,
                        format!("condition {name} is not defined in `Conditions`"),
                    ));
                };
                return self.resolve(if holds { &a[1] } else { &a[2] }, owner);
            }
            "Fn::Equals" => {
                let a = args(2)?;
                let x = self.value(&a[0], owner)?;
                let y = self.value(&a[1], owner)?;
                Value::Bool(text_of(&x) == text_of(&y))
            }
            "Fn::Not" => {
                let a = args(1)?;
                let v = self.value(&a[0], owner)?;
                Value::Bool(!truthy(&v).ok_or_else(|| err(at, id, "Fn::Not takes a condition"))?)
            }
            "Fn::And" | "Fn::Or" => {
                let V::Seq(items) = &arg.v else {
                    return Err(err(at, id, format!("{key} takes a list of conditions")));
                };
                let mut all = Vec::new();
                for i in items {
                    let v = self.value(i, owner)?;
                    all.push(
                        truthy(&v).ok_or_else(|| err(at, id, format!("{key} takes conditions")))?,
                    );
                }
                Value::Bool(if key == "Fn::And" {
                    all.iter().all(|b| *b)
                } else {
                    all.iter().any(|b| *b)
                })
            }
            "Fn::FindInMap" => {
                let V::Seq(items) = &arg.v else {
                    return Err(err(at, id, "Fn::FindInMap takes [map, key, key]"));
                };
                if items.len() < 3 {
                    return Err(err(at, id, "Fn::FindInMap takes [map, key, key]"));
                }
                let keys: Vec<String> = items[..3]
                    .iter()
                    .map(|i| self.value(i, owner).map(|v| text_of(&v)))
                    .collect::<Result<_, _>>()?;
                match self
                    .mappings
                    .get(&keys[0])
                    .and_then(|m| m.get(&keys[1]))
                    .and_then(|m| m.get(&keys[2]))
                {
                    Some(v) => v.clone(),
                    None if items.len() > 3 => self.value(&items[3], owner)?,
                    None => {
                        return Err(err(
                            at,
                            id,
                            format!(
                                "Fn::FindInMap: Mappings has no {}.{}.{}",
                                keys[0], keys[1], keys[2]
                            ),
                        ));
                    }
                }
            }
            "Fn::GetAZs" => {
                let region = ENVELOPE_REGION;
                Value::Array(
                    ["a", "b", "c"]
                        .iter()
                        .map(|z| Value::String(format!("{region}{z}")))
                        .collect(),
                )
            }
            "Fn::Base64" => self.value(arg, owner)?,
            "Fn::ToJsonString" => Value::String(self.value(arg, owner)?.to_string()),
            "Fn::Length" => match self.value(arg, owner)? {
                Value::Array(a) => Value::from(a.len()),
                _ => return Err(err(at, id, "Fn::Length takes a list")),
            },
            "Fn::ImportValue" => {
                let name = text_of(&self.value(arg, owner)?);
                let name = name.strip_prefix(EXTERNAL).unwrap_or(&name).to_owned();
                self.note(format!(
                    "{owner}: Fn::ImportValue {name} comes from another stack: a placeholder stands in for it"
                ));
                Value::String(format!("{EXTERNAL}{name}"))
            }
            "Fn::Transform" => {
                let what = arg
                    .get("Name")
                    .and_then(Node::as_str)
                    .unwrap_or("a macro")
                    .to_owned();
                self.note(format!(
                    "{owner}: Fn::Transform {what} includes content from outside the template: not read"
                ));
                Value::String(format!("{EXTERNAL}{owner}-{}", what.replace("::", "-")))
            }
            other => {
                self.note(format!("{owner}: {other} is not evaluated by the importer"));
                Value::String(format!("{EXTERNAL}{owner}"))
            }
        }))
    }

    fn reference(&self, name: &str, at: &Node, owner: &str) -> Result<Option<Value>, ImportError> {
        if let Some(v) = pseudo(name) {
            return Ok(v);
        }
        if let Some(v) = self.params.get(name) {
            return Ok(Some(v.clone()));
        }
        if self.types.contains_key(name) {
            if self.resources.iter().any(|r| r.id == name) || self.resources.is_empty() {
                return Ok(Some(Value::String(name.to_owned())));
            }
            // Left out by its condition: as CloudFormation would need the referring value to
            // sit under the same condition, the reference is dropped.
            return Ok(None);
        }
        if let Some(generated) = self.sam_generated(name) {
            return Ok(Some(Value::String(generated)));
        }
        Err(err(
            at,
            Some(owner),
            format!(
                "Ref {name}: the template has no parameter or resource {name}{}",
                hint(name, self.types.keys().chain(self.params.keys()))
            ),
        ))
    }

    fn get_att(
        &self,
        res: &str,
        attr: &str,
        at: &Node,
        owner: &str,
        in_text: bool,
    ) -> Result<Option<Value>, ImportError> {
        let Some(kind) = self.types.get(res) else {
            if let Some(generated) = self.sam_generated(res) {
                return Ok(Some(Value::String(generated)));
            }
            return Err(err(
                at,
                Some(owner),
                format!(
                    "Fn::GetAtt {res}.{attr}: the template has no resource {res}{}",
                    hint(res, self.types.keys())
                ),
            ));
        };
        if let Some(output) = attr.strip_prefix("Outputs.")
            && (kind == "AWS::CloudFormation::Stack" || kind == "AWS::Serverless::Application")
        {
            self.note(format!(
                "{owner}: {res}.{attr} is an output of the nested stack {res}: a placeholder stands in for it"
            ));
            return Ok(Some(Value::String(format!("{EXTERNAL}{output}"))));
        }
        if !self.resources.is_empty() && !self.resources.iter().any(|r| r.id == res) {
            return Ok(None);
        }
        if in_text {
            return Ok(Some(Value::String(
                self.names
                    .get(res)
                    .cloned()
                    .unwrap_or_else(|| res.to_owned()),
            )));
        }
        Ok(Some(Value::String(res.to_owned())))
    }

    fn sub(
        &self,
        text: &str,
        vars: &Map<String, Value>,
        at: &Node,
        owner: &str,
    ) -> Result<String, ImportError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(lit) = after.strip_prefix('!') {
                // `${!Literal}` writes `${Literal}`.
                out.push_str("${");
                rest = lit;
                continue;
            }
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = after[..end].trim();
            let value = if let Some(v) = vars.get(name) {
                text_of(v)
            } else if let Some(v) = pseudo(name) {
                v.as_ref().map(text_of).unwrap_or_default()
            } else if let Some(v) = self.params.get(name) {
                text_of(v)
            } else if self.types.contains_key(name) {
                self.names
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| name.to_owned())
            } else if let Some(g) = self.sam_generated(name) {
                g
            } else if let Some((res, attr)) = name.split_once('.') {
                match self.get_att(res, attr, at, owner, true)? {
                    Some(v) => text_of(&v),
                    None => String::new(),
                }
            } else {
                return Err(err(
                    at,
                    Some(owner),
                    format!(
                        "Fn::Sub ${{{name}}}: the template has no parameter or resource {name}{}",
                        hint(name, self.types.keys().chain(self.params.keys()))
                    ),
                ));
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn hint<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> String {
    let known: Vec<&str> = known.map(String::as_str).collect();
    crate::names::did_you_mean(name, known.iter().copied())
        .map(|h| format!(" ({h})"))
        .unwrap_or_default()
}

/// Pseudo-parameters: `Some(None)` is `AWS::NoValue`.
fn pseudo(name: &str) -> Option<Option<Value>> {
    Some(Some(Value::String(
        match name {
            "AWS::AccountId" => ENVELOPE_ACCOUNT,
            "AWS::Region" => ENVELOPE_REGION,
            "AWS::StackName" => STACK_NAME,
            "AWS::StackId" => "arn:aws:cloudformation:us-east-1:123456789012:stack/stack/1",
            "AWS::Partition" => "aws",
            "AWS::URLSuffix" => "amazonaws.com",
            "AWS::NotificationARNs" => return Some(Some(Value::Array(Vec::new()))),
            "AWS::NoValue" => return Some(None),
            _ => return None,
        }
        .to_owned(),
    )))
}

/// A value as text (strings without quotes).
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn collect_condition_names(node: &Node, out: &mut Vec<String>) {
    match &node.v {
        V::Map(entries) => {
            for (k, _, v) in entries {
                if k == "Condition"
                    && let Some(s) = v.as_str()
                {
                    out.push(s.to_owned());
                } else {
                    collect_condition_names(v, out);
                }
            }
        }
        V::Seq(items) => items.iter().for_each(|i| collect_condition_names(i, out)),
        _ => {}
    }
}

/// `DependsOn` must name resources that exist, and must not loop.
fn check_depends_on(all: &[(String, String, u32, Node)]) -> Result<(), ImportError> {
    let ids: BTreeMap<&str, usize> = all
        .iter()
        .enumerate()
        .map(|(i, r)| (r.0.as_str(), i))
        .collect();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); all.len()];
    for (i, (id, _, _, body)) in all.iter().enumerate() {
        let Some(d) = body.get("DependsOn") else {
            continue;
        };
        let names: Vec<&Node> = match &d.v {
            V::Seq(items) => items.iter().collect(),
            _ => vec![d],
        };
        for n in names {
            let Some(name) = n.as_str() else {
                return Err(err(n, Some(id), "`DependsOn` takes logical ids"));
            };
            let Some(&j) = ids.get(name) else {
                return Err(err(
                    n,
                    Some(id),
                    format!(
                        "DependsOn {name}: the template has no resource {name}{}",
                        crate::names::did_you_mean(name, ids.keys().copied())
                            .map(|h| format!(" ({h})"))
                            .unwrap_or_default()
                    ),
                ));
            };
            edges[i].push(j);
        }
    }
    // Iterative depth-first search: 0 unvisited, 1 on the path, 2 done.
    let mut state = vec![0u8; all.len()];
    for start in 0..all.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        let mut cycle: Vec<&str> = stack[from..]
                            .iter()
                            .map(|(n, _)| all[*n].0.as_str())
                            .collect();
                        cycle.push(&all[to].0);
                        return Err(ImportError::at(
                            all[to].2,
                            Some(&all[to].0),
                            format!("DependsOn forms a cycle: {}", cycle.join(" → ")),
                        ));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::yaml::parse;

    fn read(text: &str) -> Result<Template, ImportError> {
        Template::read(&parse(text).expect("yaml"), &Options::default())
    }

    fn props(t: &Template, id: &str) -> Value {
        let r = t.resources.iter().find(|r| r.id == id).expect("resource");
        t.resolve(&r.props, id).expect("resolves").expect("a value")
    }

    #[test]
    fn refs_subs_and_pseudo_parameters() {
        let t = read(
            "Parameters:\n  Env: {Type: String, Default: prod}\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !Sub 'orders-${Env}'}\n  R:\n    Type: AWS::Events::Rule\n    Properties:\n      A: !Ref Q\n      B: !GetAtt Q.Arn\n      C: !Sub 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Q}'\n      D: !Sub ['${X}-${Env}', {X: !Ref AWS::StackName}]\n      E: !Ref AWS::NoValue\n      F: !Sub '${!Literal}'\n",
        )
        .expect("reads");
        let p = props(&t, "R");
        assert_eq!(p["A"], "Q");
        assert_eq!(p["B"], "Q");
        assert_eq!(p["C"], "arn:aws:sqs:us-east-1:123456789012:orders-prod");
        assert_eq!(p["D"], "stack-prod");
        assert!(p.get("E").is_none(), "NoValue drops the key");
        assert_eq!(p["F"], "${Literal}");
    }

    #[test]
    fn conditions_leave_resources_out_and_pick_branches() {
        let t = read(
            "Parameters:\n  Env: {Type: String, Default: dev}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n  NotProd: !Not [!Condition IsProd]\nResources:\n  A: {Type: AWS::SQS::Queue, Condition: IsProd}\n  B:\n    Type: AWS::SQS::Queue\n    Properties: {X: !If [NotProd, yes-branch, no-branch], Y: !Join ['-', [a, b]], Z: !Select [1, [x, y]]}\n",
        )
        .expect("reads");
        assert!(t.resources.iter().all(|r| r.id != "A"));
        assert_eq!(t.excluded[0].0, "A");
        let p = props(&t, "B");
        assert_eq!(p["X"], "yes-branch");
        assert_eq!(p["Y"], "a-b");
        assert_eq!(p["Z"], "y");
    }

    #[test]
    fn params_from_the_command_line_win() {
        let text = "Parameters:\n  Env: {Type: String, Default: dev}\nResources:\n  B:\n    Type: AWS::SQS::Queue\n    Properties: {X: !Ref Env}\n";
        let mut o = Options::default();
        o.params.insert("Env".into(), "prod".into());
        let t = Template::read(&parse(text).expect("yaml"), &o).expect("reads");
        assert_eq!(props(&t, "B")["X"], "prod");
        o.params.insert("Nope".into(), "1".into());
        let e = Template::read(&parse(text).expect("yaml"), &o)
            .err()
            .expect("unknown param");
        assert!(e.message.contains("declares no parameter Nope"), "{e:?}");
    }

    #[test]
    fn missing_references_name_the_line_and_resource() {
        let t = read(
            "Resources:\n  B:\n    Type: AWS::SQS::Queue\n    Properties:\n      X: !Ref Nowhere\n",
        )
        .expect("reads");
        let r = &t.resources[0];
        let e = t.resolve(&r.props, "B").expect_err("missing");
        assert_eq!(e.line, 5);
        assert_eq!(e.logical_id.as_deref(), Some("B"));
        assert!(e.message.contains("Nowhere"), "{e:?}");
    }

    #[test]
    fn depends_on_cycles_and_unknowns_are_errors() {
        let e = read("Resources:\n  A: {Type: AWS::SQS::Queue, DependsOn: B}\n  B: {Type: AWS::SQS::Queue, DependsOn: [A]}\n")
            .err()
            .expect("cycle");
        assert!(
            e.message.contains("cycle") && e.message.contains("A → B → A"),
            "{e:?}"
        );
        let e = read("Resources:\n  A: {Type: AWS::SQS::Queue, DependsOn: Ghost}\n")
            .err()
            .expect("unknown");
        assert!(e.message.contains("Ghost") && e.line == 2, "{e:?}");
    }

    #[test]
    fn not_cloudformation_is_refused() {
        assert!(
            read("- a\n- b\n")
                .err()
                .expect("list")
                .message
                .contains("not a CloudFormation")
        );
        assert!(
            read("a: 1\n")
                .err()
                .expect("no resources")
                .message
                .contains("Resources")
        );
        assert!(
            read("Resources:\n  A: {Properties: {}}\n")
                .err()
                .expect("no type")
                .message
                .contains("Type")
        );
    }

    #[test]
    fn import_value_and_missing_defaults_are_external() {
        let t = read("Parameters:\n  BusArn: {Type: String}\nResources:\n  B:\n    Type: AWS::SQS::Queue\n    Properties: {X: !ImportValue SharedQueue, Y: !Ref BusArn}\n")
            .expect("reads");
        let p = props(&t, "B");
        assert_eq!(p["X"], "external:SharedQueue");
        assert_eq!(p["Y"], "external:BusArn");
        assert_eq!(t.notes().len(), 2, "{:?}", t.notes());
    }
}
