//! SAM's transform, as far as eventflow needs it: `AWS::Serverless::*` resources with their
//! `Events` and `Globals` become the plain `CloudFormation` resources SAM would deploy, so the
//! mapping reads one vocabulary. Every resource's properties are resolved here.
//!
//! Generated resources take SAM's logical ids (function id + event id), and remember where they
//! came from (`Function.Events.Name`) for the report.
//! <https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html>
//! <https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-eventsource.html>

use serde_json::{Map, Value, json};

use super::intrinsics::{RawResource, Template};
use super::yaml::{Node, V};
use super::{ImportError, Options};

/// A resource in `CloudFormation`'s vocabulary, properties resolved.
#[derive(Clone, Debug)]
pub struct Resource {
    /// Logical id (SAM's generated id for what SAM generates).
    pub id: String,
    /// `CloudFormation` type, or [`ENTRY`] for an entry point of traffic.
    pub kind: String,
    /// Line of the resource (or of the SAM event it came from).
    pub line: u32,
    /// Resolved properties.
    pub props: Value,
    /// `Function.Events.Name` for what SAM generated.
    pub origin: Option<String>,
}

/// An entry point outside the template that invokes a function or state machine (an API
/// route, an S3 notification, …): properties `Target` and `What`.
pub const ENTRY: &str = "eventflow::Entry";

/// Expands the SAM resources and resolves every resource's properties.
pub fn transform(t: &Template, options: &Options) -> Result<Vec<Resource>, ImportError> {
    let mut out = Vec::new();
    let function_globals = t.globals.as_ref().and_then(|g| g.get("Function")).cloned();
    for r in &t.resources {
        match r.kind.as_str() {
            "AWS::Serverless::Function" => {
                let props = match &function_globals {
                    Some(g) => merge(g, &r.props),
                    None => r.props.clone(),
                };
                let props = resolve(t, &props, &r.id)?;
                function(r, props, &mut out);
            }
            "AWS::Serverless::StateMachine" => {
                let props = resolve(t, &r.props, &r.id)?;
                state_machine(t, r, props, options, &mut out);
            }
            _ => out.push(Resource {
                id: r.id.clone(),
                kind: r.kind.clone(),
                line: r.line,
                props: resolve(t, &r.props, &r.id)?,
                origin: None,
            }),
        }
    }
    Ok(out)
}

fn resolve(t: &Template, node: &Node, id: &str) -> Result<Value, ImportError> {
    Ok(t.resolve(node, id)?.unwrap_or(Value::Object(Map::new())))
}

/// `Globals` under a resource's own properties: mappings merge, the resource's values win.
fn merge(global: &Node, own: &Node) -> Node {
    match (&global.v, &own.v) {
        (V::Map(g), V::Map(o)) => {
            let mut entries = o.clone();
            for (k, line, gv) in g {
                match entries.iter_mut().find(|(ok, _, _)| ok == k) {
                    Some((_, _, ov)) => {
                        let intrinsic = ov
                            .entries()
                            .first()
                            .is_some_and(|(k, _, _)| k == "Ref" || k.starts_with("Fn::"));
                        if !intrinsic {
                            *ov = merge(gv, ov);
                        }
                    }
                    None => entries.push((k.clone(), *line, gv.clone())),
                }
            }
            Node {
                line: own.line,
                v: V::Map(entries),
            }
        }
        _ => own.clone(),
    }
}

fn push(out: &mut Vec<Resource>, id: String, kind: &str, line: u32, props: Value, origin: String) {
    out.push(Resource {
        id,
        kind: kind.to_owned(),
        line,
        props,
        origin: Some(origin),
    });
}

fn event_line(r: &RawResource, name: &str) -> u32 {
    r.props
        .get("Events")
        .and_then(|e| {
            e.entries()
                .iter()
                .find(|(k, _, _)| k == name)
                .map(|(_, l, _)| *l)
        })
        .unwrap_or(r.line)
}

fn function(r: &RawResource, mut props: Value, out: &mut Vec<Resource>) {
    let f = r.id.clone();
    let events = props
        .as_object_mut()
        .and_then(|p| p.remove("Events"))
        .and_then(|e| e.as_object().cloned())
        .unwrap_or_default();
    // SAM's DeadLetterQueue: {Type: SQS|SNS, TargetArn} → the function's DeadLetterConfig.
    if let Some(dlq) = props.get("DeadLetterQueue").cloned()
        && let Some(arn) = dlq.get("TargetArn")
        && let Some(p) = props.as_object_mut()
    {
        p.insert("DeadLetterConfig".into(), json!({ "TargetArn": arn }));
    }
    // SAM's EventInvokeConfig → AWS::Lambda::EventInvokeConfig; a destination of type SQS or
    // SNS without an ARN is a queue or topic SAM creates.
    if let Some(cfg) = props
        .as_object_mut()
        .and_then(|p| p.remove("EventInvokeConfig"))
    {
        let mut cfg = cfg;
        for which in ["OnSuccess", "OnFailure"] {
            let Some(d) = cfg.pointer_mut(&format!("/DestinationConfig/{which}")) else {
                continue;
            };
            if d.get("Destination").is_none() {
                let kind = d.get("Type").and_then(Value::as_str).unwrap_or_default();
                let (rtype, suffix) = match kind {
                    "SQS" => ("AWS::SQS::Queue", "Queue"),
                    "SNS" => ("AWS::SNS::Topic", "Topic"),
                    _ => continue,
                };
                let id = format!("{f}EventInvokeConfig{which}{suffix}");
                d["Destination"] = Value::String(id.clone());
                push(
                    out,
                    id,
                    rtype,
                    r.line,
                    json!({}),
                    format!("{f}.EventInvokeConfig.{which}"),
                );
            }
        }
        if let Some(o) = cfg.as_object_mut() {
            o.insert("FunctionName".into(), Value::String(f.clone()));
        }
        push(
            out,
            format!("{f}EventInvokeConfig"),
            "AWS::Lambda::EventInvokeConfig",
            r.line,
            cfg,
            format!("{f}.EventInvokeConfig"),
        );
    }
    out.push(Resource {
        id: f.clone(),
        kind: "AWS::Lambda::Function".into(),
        line: r.line,
        props,
        origin: None,
    });
    for (name, ev) in events {
        let line = event_line(r, &name);
        let origin = format!("{f}.Events.{name}");
        let id = format!("{f}{name}");
        let kind = ev
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let p = ev.get("Properties").cloned().unwrap_or_else(|| json!({}));
        let target = Value::String(f.clone());
        match kind.as_str() {
            "SQS" | "Kinesis" | "DynamoDB" | "MSK" | "SelfManagedKafka" | "MQ" | "DocumentDB" => {
                let mut m = p.as_object().cloned().unwrap_or_default();
                let source = m
                    .remove("Queue")
                    .or_else(|| m.remove("Stream"))
                    .or_else(|| m.remove("Broker"))
                    .or_else(|| m.remove("Cluster"))
                    .unwrap_or(Value::Null);
                m.insert("EventSourceArn".into(), source);
                m.insert("FunctionName".into(), target);
                m.insert("SourceKind".into(), Value::String(kind.clone()));
                push(
                    out,
                    id,
                    "AWS::Lambda::EventSourceMapping",
                    line,
                    Value::Object(m),
                    origin,
                );
            }
            "EventBridgeRule" | "CloudWatchEvent" => {
                let mut t = json!({ "Arn": target, "Id": name });
                for k in [
                    "RetryPolicy",
                    "DeadLetterConfig",
                    "InputPath",
                    "InputTransformer",
                    "Input",
                ] {
                    if let Some(v) = p.get(k) {
                        t[k] = v.clone();
                    }
                }
                sam_dlq(&mut t, &id, line, &origin, out);
                let mut rule = json!({ "EventPattern": p.get("Pattern").cloned().unwrap_or(json!({})), "Targets": [t] });
                if let Some(b) = p.get("EventBusName") {
                    rule["EventBusName"] = b.clone();
                }
                if p.get("Enabled") == Some(&Value::Bool(false))
                    || p.get("State").and_then(Value::as_str) == Some("DISABLED")
                {
                    rule["State"] = "DISABLED".into();
                }
                push(out, id, "AWS::Events::Rule", line, rule, origin);
            }
            "Schedule" | "ScheduleV2" => {
                let expr = p
                    .get("Schedule")
                    .or_else(|| p.get("ScheduleExpression"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let mut t = json!({ "Arn": target, "Id": name });
                for k in ["RetryPolicy", "DeadLetterConfig", "Input"] {
                    if let Some(v) = p.get(k) {
                        t[k] = v.clone();
                    }
                }
                sam_dlq(&mut t, &id, line, &origin, out);
                let mut rule = json!({ "ScheduleExpression": expr, "Targets": [t] });
                if p.get("Enabled") == Some(&Value::Bool(false))
                    || p.get("State").and_then(Value::as_str) == Some("DISABLED")
                {
                    rule["State"] = "DISABLED".into();
                }
                push(out, id, "AWS::Events::Rule", line, rule, origin);
            }
            "SNS" => {
                let mut sub = json!({ "TopicArn": p.get("Topic").cloned().unwrap_or(Value::Null), "Protocol": "lambda", "Endpoint": target });
                for k in ["FilterPolicy", "FilterPolicyScope", "RedrivePolicy"] {
                    if let Some(v) = p.get(k) {
                        sub[k] = v.clone();
                    }
                }
                match p.get("SqsSubscription") {
                    Some(Value::Bool(true) | Value::Object(_)) => {
                        // SAM puts a queue between the topic and the function.
                        let q = p
                            .pointer("/SqsSubscription/QueueArn")
                            .cloned()
                            .unwrap_or_else(|| Value::String(format!("{id}Queue")));
                        if p.pointer("/SqsSubscription/QueueArn").is_none() {
                            push(
                                out,
                                format!("{id}Queue"),
                                "AWS::SQS::Queue",
                                line,
                                json!({}),
                                origin.clone(),
                            );
                        }
                        sub["Protocol"] = "sqs".into();
                        sub["Endpoint"] = q.clone();
                        let mut esm =
                            json!({ "EventSourceArn": q, "FunctionName": f, "SourceKind": "SQS" });
                        if let Some(b) = p.pointer("/SqsSubscription/BatchSize") {
                            esm["BatchSize"] = b.clone();
                        }
                        push(
                            out,
                            format!("{id}EventSourceMapping"),
                            "AWS::Lambda::EventSourceMapping",
                            line,
                            esm,
                            origin.clone(),
                        );
                        push(out, id, "AWS::SNS::Subscription", line, sub, origin);
                    }
                    _ => push(out, id, "AWS::SNS::Subscription", line, sub, origin),
                }
            }
            other => {
                let what = match other {
                    "Api" | "HttpApi" => format!(
                        "{other} {} {}",
                        p.get("Method")
                            .and_then(Value::as_str)
                            .unwrap_or("ANY")
                            .to_uppercase(),
                        p.get("Path").and_then(Value::as_str).unwrap_or("/")
                    ),
                    "" => "an event source of no type".to_owned(),
                    _ => format!("{other} events"),
                };
                push(
                    out,
                    id,
                    super::sam::ENTRY,
                    line,
                    json!({ "Target": f, "What": what, "Source": other }),
                    origin,
                );
            }
        }
    }
}

/// SAM's `DeadLetterConfig: {Type: SQS}` without an ARN: a queue SAM creates.
fn sam_dlq(target: &mut Value, id: &str, line: u32, origin: &str, out: &mut Vec<Resource>) {
    let Some(d) = target.get_mut("DeadLetterConfig") else {
        return;
    };
    if d.get("Arn").is_none() && d.get("Type").and_then(Value::as_str) == Some("SQS") {
        let q = d
            .get("QueueLogicalId")
            .and_then(Value::as_str)
            .map_or_else(|| format!("{id}Queue"), str::to_owned);
        d["Arn"] = Value::String(q.clone());
        push(
            out,
            q,
            "AWS::SQS::Queue",
            line,
            json!({}),
            origin.to_owned(),
        );
    }
}

fn state_machine(
    t: &Template,
    r: &RawResource,
    mut props: Value,
    options: &Options,
    out: &mut Vec<Resource>,
) {
    let m = r.id.clone();
    let events = props
        .as_object_mut()
        .and_then(|p| p.remove("Events"))
        .and_then(|e| e.as_object().cloned())
        .unwrap_or_default();
    let mut sfn = Map::new();
    if let Some(ty) = props.get("Type") {
        sfn.insert("StateMachineType".into(), ty.clone());
    }
    if let Some(d) = props.get("Definition") {
        sfn.insert("Definition".into(), d.clone());
    } else if let Some(uri) = props.get("DefinitionUri") {
        match uri.as_str().map(|u| (u, read_local(options, u))) {
            Some((_, Some(text))) => {
                sfn.insert("DefinitionString".into(), Value::String(text));
            }
            Some((u, None)) => t.note(format!(
                "{m}: DefinitionUri {u} is not beside the template: a placeholder service stands in for the state machine"
            )),
            None => t.note(format!(
                "{m}: DefinitionUri points to S3: a placeholder service stands in for the state machine"
            )),
        }
    }
    if let Some(s) = props.get("DefinitionSubstitutions") {
        sfn.insert("DefinitionSubstitutions".into(), s.clone());
    }
    out.push(Resource {
        id: m.clone(),
        kind: "AWS::StepFunctions::StateMachine".into(),
        line: r.line,
        props: Value::Object(sfn),
        origin: None,
    });
    for (name, ev) in events {
        let line = event_line(r, &name);
        let origin = format!("{m}.Events.{name}");
        let id = format!("{m}{name}");
        let kind = ev.get("Type").and_then(Value::as_str).unwrap_or_default();
        let p = ev.get("Properties").cloned().unwrap_or_else(|| json!({}));
        let mut target = json!({ "Arn": m, "Id": name });
        for k in [
            "RetryPolicy",
            "DeadLetterConfig",
            "InputPath",
            "InputTransformer",
            "Input",
        ] {
            if let Some(v) = p.get(k) {
                target[k] = v.clone();
            }
        }
        sam_dlq(&mut target, &id, line, &origin, out);
        let mut rule = match kind {
            "EventBridgeRule" | "CloudWatchEvent" => {
                json!({ "EventPattern": p.get("Pattern").cloned().unwrap_or(json!({})), "Targets": [target] })
            }
            "Schedule" | "ScheduleV2" => json!({
                "ScheduleExpression": p.get("Schedule").or_else(|| p.get("ScheduleExpression")).cloned().unwrap_or(Value::Null),
                "Targets": [target] }),
            other => {
                let what = format!("{other} events");
                push(
                    out,
                    id,
                    ENTRY,
                    line,
                    json!({ "Target": m, "What": what, "Source": other }),
                    origin,
                );
                continue;
            }
        };
        if let Some(b) = p.get("EventBusName") {
            rule["EventBusName"] = b.clone();
        }
        if p.get("Enabled") == Some(&Value::Bool(false)) {
            rule["State"] = "DISABLED".into();
        }
        push(out, id, "AWS::Events::Rule", line, rule, origin);
    }
}

/// A `DefinitionUri` file beside the template, when it is there (a relative path only).
fn read_local(options: &Options, uri: &str) -> Option<String> {
    let base = options.base_dir.as_ref()?;
    if uri.starts_with("s3://") || uri.is_empty() {
        return None;
    }
    let text = crate::scenario::read_bounded(&base.join(uri), 1024 * 1024).ok()?;
    // ASL files are JSON or YAML; either becomes a JSON string.
    let node = super::yaml::parse(&text).ok()?;
    Some(node.to_json().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::yaml::parse;

    fn expand(text: &str) -> Vec<Resource> {
        let t = Template::read(&parse(text).expect("yaml"), &Options::default()).expect("reads");
        transform(&t, &Options::default()).expect("transforms")
    }

    #[test]
    fn globals_apply_and_events_become_resources() {
        let r = expand(
            "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function: {Timeout: 30, MemorySize: 128}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      MemorySize: 256\n      Events:\n        FromQ: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn, BatchSize: 5}}\n        Rule: {Type: EventBridgeRule, Properties: {Pattern: {source: [a]}}}\n        Get: {Type: Api, Properties: {Path: /x, Method: get}}\n",
        );
        let f = r.iter().find(|r| r.id == "F").expect("function");
        assert_eq!(f.kind, "AWS::Lambda::Function");
        assert_eq!(f.props["Timeout"], 30);
        assert_eq!(f.props["MemorySize"], 256, "the function's own value wins");
        let esm = r.iter().find(|r| r.id == "FFromQ").expect("esm");
        assert_eq!(esm.kind, "AWS::Lambda::EventSourceMapping");
        assert_eq!(esm.props["EventSourceArn"], "Q");
        assert_eq!(esm.props["BatchSize"], 5);
        assert_eq!(esm.origin.as_deref(), Some("F.Events.FromQ"));
        let rule = r.iter().find(|r| r.id == "FRule").expect("rule");
        assert_eq!(rule.props["EventPattern"]["source"][0], "a");
        assert_eq!(rule.props["Targets"][0]["Arn"], "F");
        let api = r.iter().find(|r| r.id == "FGet").expect("entry");
        assert_eq!(api.kind, ENTRY);
        assert_eq!(api.props["What"], "Api GET /x");
    }

    #[test]
    fn event_invoke_config_and_dead_letter_queue() {
        let r = expand(
            "Resources:\n  D: {Type: AWS::SQS::Queue}\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt D.Arn}\n      EventInvokeConfig:\n        MaximumRetryAttempts: 1\n        DestinationConfig: {OnFailure: {Type: SQS}}\n",
        );
        let f = r.iter().find(|r| r.id == "F").expect("function");
        assert_eq!(f.props["DeadLetterConfig"]["TargetArn"], "D");
        let cfg = r
            .iter()
            .find(|r| r.id == "FEventInvokeConfig")
            .expect("config");
        assert_eq!(cfg.props["MaximumRetryAttempts"], 1);
        let q = cfg.props["DestinationConfig"]["OnFailure"]["Destination"]
            .as_str()
            .expect("made");
        assert!(r.iter().any(|r| r.id == q && r.kind == "AWS::SQS::Queue"));
    }
}
