//! Reading a template: YAML (with `CloudFormation`'s short-form tags) or JSON into a [`Node`]
//! tree that keeps each value's line, so later errors can say where.
//!
//! The event-level parser of `saphyr-parser` reports every node's tag and position. Short forms
//! become the long forms `CloudFormation` defines: `!Ref X` → `{"Ref": "X"}`, `!GetAtt A.B` →
//! `{"Fn::GetAtt": ["A", "B"]}` (split at the first dot), `!Condition C` → `{"Condition": "C"}`,
//! and every other `!Name v` → `{"Fn::Name": v}`. Plain scalars follow the YAML 1.2 core schema,
//! so an unquoted `2010-09-09` stays a string. JSON is YAML 1.2's subset and goes through the
//! same parser (its syntax errors are reported in `serde_json`'s words, which name JSON's
//! expectations).

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::{Number, Value};

/// A value of the template and the line (1-based) where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// 1-based line of the value in the file.
    pub line: u32,
    /// The value.
    pub v: V,
}

/// The shapes a template value takes.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    /// `null`, `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer or a float.
    Num(Number),
    /// Any other scalar.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping in file order: key, the key's line, value.
    Map(Vec<(String, u32, Node)>),
}

impl Node {
    fn new(line: u32, v: V) -> Self {
        Node { line, v }
    }

    /// The value under `key` of a mapping.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.v {
            V::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|(_, _, n)| n),
            _ => None,
        }
    }

    /// The entries of a mapping (empty for anything else).
    #[must_use]
    pub fn entries(&self) -> &[(String, u32, Node)] {
        match &self.v {
            V::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The text of a string scalar.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.v {
            V::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The node as plain JSON (lines dropped).
    #[must_use]
    pub fn to_json(&self) -> Value {
        match &self.v {
            V::Null => Value::Null,
            V::Bool(b) => Value::Bool(*b),
            V::Num(n) => Value::Number(n.clone()),
            V::Str(s) => Value::String(s.clone()),
            V::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            V::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, _, n)| (k.clone(), n.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A template that is neither YAML nor JSON: the reason and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// 1-based column (0 when unknown).
    pub column: u32,
    /// What is wrong, in the parser's words.
    pub message: String,
}

/// Nodes at most this deep: deeper input is refused rather than risk the stack.
pub const MAX_DEPTH: usize = 200;
/// Values an alias may expand the document to (a "billion laughs" guard).
pub const MAX_NODES: usize = 2_000_000;

/// Parses YAML or JSON text into one document.
///
/// # Errors
/// Text that is not YAML or JSON, several documents, or input past [`MAX_DEPTH`] / [`MAX_NODES`].
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let looks_json = text.trim_start().starts_with('{');
    match parse_yaml(text) {
        Ok(n) => Ok(n),
        Err(e) if looks_json => match serde_json::from_str::<Value>(text) {
            Err(j) => Err(SyntaxError {
                line: j.line() as u32,
                column: j.column() as u32,
                message: format!("not valid JSON: {j}"),
            }),
            Ok(_) => Err(e),
        },
        Err(e) => Err(e),
    }
}

struct Frame {
    node: Node,
    /// For a mapping: a key waiting for its value.
    pending: Option<(String, u32)>,
    tag: Option<String>,
    anchor: usize,
}

struct Builder {
    stack: Vec<Frame>,
    anchors: Vec<(usize, Node)>,
    done: Option<Node>,
    documents: usize,
    nodes: usize,
}

fn line_of(span: &Span) -> u32 {
    span.start.line() as u32
}

fn parse_yaml(text: &str) -> Result<Node, SyntaxError> {
    let mut b = Builder {
        stack: Vec::new(),
        anchors: Vec::new(),
        done: None,
        documents: 0,
        nodes: 0,
    };
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| SyntaxError {
            line: e.marker().line() as u32,
            column: e.marker().col() as u32 + 1,
            message: format!("not valid YAML: {}", e.info()),
        })?;
        let line = line_of(&span);
        let err = |message: String| SyntaxError {
            line,
            column: span.start.col() as u32 + 1,
            message,
        };
        match event {
            Event::DocumentStart(_) => {
                b.documents += 1;
                if b.documents > 1 {
                    return Err(err(
                        "a template is one YAML document; this file holds several".into(),
                    ));
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let node = scalar(&value, style, tag.as_deref(), line).map_err(err)?;
                b.value(node, anchor, line).map_err(err)?;
            }
            Event::SequenceStart(anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                b.open(Node::new(line, V::Seq(Vec::new())), tag, anchor)
                    .map_err(err)?;
            }
            Event::MappingStart(anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                b.open(Node::new(line, V::Map(Vec::new())), tag, anchor)
                    .map_err(err)?;
            }
            Event::SequenceEnd | Event::MappingEnd => b.close().map_err(err)?,
            Event::Alias(id) => {
                let Some(node) = b
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n)
                else {
                    return Err(err("an alias names an anchor that is not defined".into()));
                };
                let node = Node {
                    line,
                    ..node.clone()
                };
                b.nodes += count(&node);
                b.value(node, 0, line).map_err(err)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    b.done.ok_or(SyntaxError {
        line: 1,
        column: 1,
        message: "the file is empty".into(),
    })
}

fn count(node: &Node) -> usize {
    match &node.v {
        V::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        V::Map(entries) => 1 + entries.iter().map(|(_, _, n)| count(n)).sum::<usize>(),
        _ => 1,
    }
}

impl Builder {
    fn open(&mut self, node: Node, tag: Option<String>, anchor: usize) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        self.stack.push(Frame {
            node,
            pending: None,
            tag,
            anchor,
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(), String> {
        let Some(frame) = self.stack.pop() else {
            return Err("a collection closes that never opened".into());
        };
        if frame.pending.is_some() {
            return Err("a mapping key has no value".into());
        }
        let line = frame.node.line;
        let node = apply_tag(frame.node, frame.tag.as_deref())?;
        self.value(node, frame.anchor, line)
    }

    fn value(&mut self, node: Node, anchor: usize, line: u32) -> Result<(), String> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(format!(
                "more than {MAX_NODES} values (aliases expanding too far?)"
            ));
        }
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
        let Some(Frame {
            node: top, pending, ..
        }) = self.stack.last_mut()
        else {
            self.done = Some(node);
            return Ok(());
        };
        match &mut top.v {
            V::Seq(items) => items.push(node),
            V::Map(entries) => match pending.take() {
                None => {
                    let key = match node.v {
                        V::Str(s) => s,
                        V::Num(n) => n.to_string(),
                        V::Bool(b) => b.to_string(),
                        V::Null => String::new(),
                        V::Seq(_) | V::Map(_) => {
                            return Err("a mapping key must be a plain value".into());
                        }
                    };
                    if entries.iter().any(|(k, _, _)| *k == key) {
                        return Err(format!("the key \"{key}\" appears twice in one mapping"));
                    }
                    *pending = Some((key, line));
                }
                Some((key, key_line)) => entries.push((key, key_line, node)),
            },
            _ => unreachable!("only collections are pushed"),
        }
        Ok(())
    }
}

/// A scalar by the YAML 1.2 core schema, then its tag.
fn scalar(text: &str, style: ScalarStyle, tag: Option<&str>, line: u32) -> Result<Node, String> {
    let plain = matches!(style, ScalarStyle::Plain);
    let v = match tag {
        Some("tag:yaml.org,2002:str" | "!!str") => V::Str(text.to_owned()),
        _ if !plain => V::Str(text.to_owned()),
        _ => core_schema(text),
    };
    apply_tag(Node::new(line, v), tag)
}

fn core_schema(text: &str) -> V {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return V::Null,
        "true" | "True" | "TRUE" => return V::Bool(true),
        "false" | "False" | "FALSE" => return V::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return V::Num(i.into());
        }
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return V::Num(n);
        }
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return V::Num(i.into());
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return V::Num(i.into());
    }
    let float_like = digits
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|c| c.is_ascii_digit())
        && !digits.starts_with(['e', 'E']);
    if float_like && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
        return V::Num(n);
    }
    V::Str(text.to_owned())
}

/// `CloudFormation`'s short forms as their long forms.
fn apply_tag(node: Node, tag: Option<&str>) -> Result<Node, String> {
    let Some(tag) = tag else { return Ok(node) };
    if tag.starts_with("tag:yaml.org,2002:") || tag.starts_with("!!") || tag == "!" {
        return Ok(node);
    }
    let Some(name) = tag.strip_prefix('!') else {
        return Err(format!("unknown tag {tag}"));
    };
    let line = node.line;
    let (key, value) = match name {
        "Ref" => ("Ref".to_owned(), node),
        "Condition" => ("Condition".to_owned(), node),
        "GetAtt" => {
            let value = match &node.v {
                V::Str(s) => {
                    let (res, attr) = s.split_once('.').unwrap_or((s.as_str(), ""));
                    Node::new(
                        line,
                        V::Seq(vec![
                            Node::new(line, V::Str(res.to_owned())),
                            Node::new(line, V::Str(attr.to_owned())),
                        ]),
                    )
                }
                _ => node,
            };
            ("Fn::GetAtt".to_owned(), value)
        }
        other => (format!("Fn::{other}"), node),
    };
    Ok(Node::new(line, V::Map(vec![(key, line, value)])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        parse(text).expect("parses").to_json()
    }

    #[test]
    fn short_forms_become_long_forms() {
        let v = json(
            "A: !Ref Bus\nB: !GetAtt Queue.Arn\nC: !Sub '${AWS::Region}-x'\nD: !Join ['-', [a, !Ref P]]\nE: !GetAtt [T, StreamArn]\nF: !Condition IsProd\n",
        );
        assert_eq!(v["A"], serde_json::json!({"Ref": "Bus"}));
        assert_eq!(v["B"], serde_json::json!({"Fn::GetAtt": ["Queue", "Arn"]}));
        assert_eq!(v["C"], serde_json::json!({"Fn::Sub": "${AWS::Region}-x"}));
        assert_eq!(
            v["D"],
            serde_json::json!({"Fn::Join": ["-", ["a", {"Ref": "P"}]]})
        );
        assert_eq!(
            v["E"],
            serde_json::json!({"Fn::GetAtt": ["T", "StreamArn"]})
        );
        assert_eq!(v["F"], serde_json::json!({"Condition": "IsProd"}));
    }

    #[test]
    fn get_att_splits_at_the_first_dot_only() {
        let v = json("X: !GetAtt Stack.Outputs.QueueArn\n");
        assert_eq!(
            v["X"],
            serde_json::json!({"Fn::GetAtt": ["Stack", "Outputs.QueueArn"]})
        );
    }

    #[test]
    fn core_schema_scalars() {
        let v = json("v: 2010-09-09\nn: 10\nf: 1.5\nb: true\nq: '10'\nz: ~\ny: yes\n");
        assert_eq!(v["v"], "2010-09-09");
        assert_eq!(v["n"], 10);
        assert_eq!(v["f"], 1.5);
        assert_eq!(v["b"], true);
        assert_eq!(v["q"], "10");
        assert_eq!(v["z"], Value::Null);
        assert_eq!(v["y"], "yes", "YAML 1.2: yes is a string");
    }

    #[test]
    fn lines_are_kept() {
        let n = parse("a: 1\nb:\n  c: !Ref X\n").expect("parses");
        let (_, line, _) = &n.entries()[1];
        assert_eq!(*line, 2);
        assert_eq!(n.get("b").and_then(|b| b.get("c")).map(|c| c.line), Some(3));
    }

    #[test]
    fn json_parses_with_lines() {
        let n = parse("{\n \"a\": [1, 2],\n \"b\": {\"Ref\": \"X\"}\n}").expect("parses");
        assert_eq!(n.to_json()["a"], serde_json::json!([1, 2]));
        assert_eq!(n.get("b").map(|b| b.line), Some(3));
    }

    #[test]
    fn bad_input_is_an_error_with_a_line() {
        let e = parse("a: [1, 2\nb: 3\n").expect_err("unclosed");
        assert!(e.line >= 1, "{e:?}");
        let e = parse("{\"a\": 1,,}").expect_err("bad json");
        assert!(e.message.contains("JSON"), "{e:?}");
        assert!(parse("").is_err());
        assert!(
            parse("a: 1\na: 2\n")
                .expect_err("dup")
                .message
                .contains("twice")
        );
    }

    #[test]
    fn anchors_and_aliases_expand() {
        let v = json("base: &b {x: 1}\nother: *b\n");
        assert_eq!(v["other"], serde_json::json!({"x": 1}));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&text).expect_err("bomb").message.contains("values"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(MAX_DEPTH + 5);
        assert!(parse(&text).is_err());
    }
}
