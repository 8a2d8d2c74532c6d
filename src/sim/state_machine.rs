//! Step Functions state machines at run time: executions, the Amazon States Language
//! interpreter over the parsed [`Definition`], and the Task calls it makes to consumers.
//!
//! An execution starts per delivery to the machine (a rule target, `emits`, a producer); its
//! input is the triggering event. That delivery is the owed one: it stays alive (in flight)
//! while the execution runs and completes when the execution ends, whatever the ending
//! (succeeded, failed, timed out) — an execution is never lost. A Task's call to a function or
//! service is not an owed delivery: it is an unowed message marked with its caller
//! ([`super::message::Msg::call_of`]) that takes one of the consumer's slots, draws the
//! consumer's service time and failures, and on its end reports back here instead of settling
//! (see [`Engine::done`]). Step Functions invokes a Lambda function synchronously
//! (`RequestResponse`), so a Task that finds no free slot fails at once with
//! `Lambda.TooManyRequestsException` (a service: `States.TaskFailed`), which `Retry` retries.
//!
//! Semantics, from the Step Functions developer guide:
//! - Retry (<https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html>):
//!   the first retrier whose `ErrorEquals` covers the error applies; retry k (0-based) waits
//!   `IntervalSeconds × BackoffRate^k`, capped by `MaxDelaySeconds` (with `FULL` jitter, a
//!   uniform draw below it); after `MaxAttempts` retries, Catch applies; `States.TaskFailed`
//!   covers every error but `States.Timeout`; `States.ALL` covers all.
//! - Catch: the first catcher that covers the error leads to its `Next` with the error output
//!   `{"Error", "Cause"}` at its `ResultPath` (default `$`). An execution that followed a Catch
//!   counts as *compensated*.
//! - Parallel runs every branch on the state's input and outputs the array of their outputs;
//!   Map runs its iterator per element of `ItemsPath` (at most `MaxConcurrency` at once, 0 = no
//!   limit); a failing branch or iteration stops the others and fails the state.
//! - `TimeoutSeconds` on a Task raises `States.Timeout`; on the machine it ends the execution
//!   as timed out. Express executions end at 5 minutes.
//! - A Task's result is its (filtered) input: the simulation does not model what a function
//!   returns; `Parameters` do not shape the call's input (as `model::asl` says).

use std::sync::Arc;

use serde_json::{Value, json};

use super::clock::{Ev, Nanos};
use super::engine::Engine;
use super::ids::{ConsumerId, Id, MachineId, MsgId, NodeId};
use super::ledger::Outcome;
use super::rng::Stream;
use super::stats::Tally;
use crate::metrics::Latency;
use crate::model::asl::{Definition, JsonPath, StateKind, WaitFor};
use crate::model::{StateMachine, StateMachineType, defaults};

/// Steps one thread may take at one instant before the execution is failed: a Choice/Pass
/// cycle without a Wait or Task never lets time pass.
const MAX_INSTANT_STEPS: u32 = 10_000;

/// One machine, its branches and iterators flattened: `defs[0]` is the machine.
struct Def {
    machine: Definition,
    /// Per state: the definitions of its Parallel branches or its Map iterator.
    children: Vec<Vec<usize>>,
    /// Per state: the consumer a Task calls.
    consumers: Vec<Option<ConsumerId>>,
    /// Per state: its name in the figures (`Fan/0/Ship` inside a Parallel's first branch).
    names: Vec<String>,
}

/// Figures of one state.
#[derive(Clone, Debug, Default)]
pub(crate) struct StateCounts {
    pub(crate) entries: u64,
    pub(crate) failures: u64,
    pub(crate) retries: u64,
}

/// A compiled state machine and its figures (executions started after the warm-up).
pub(crate) struct MachineRt {
    pub(crate) node: NodeId,
    defs: Arc<Vec<Def>>,
    timeout: Option<Nanos>,
    duplicate_rate: f64,
    rng: Stream,
    pub(crate) started: u64,
    pub(crate) succeeded: u64,
    pub(crate) failed: u64,
    pub(crate) timed_out: u64,
    pub(crate) running: u64,
    pub(crate) compensated: u64,
    pub(crate) exec_time: Latency,
    /// Per flattened definition, per state.
    pub(crate) states: Vec<Vec<StateCounts>>,
}

impl MachineRt {
    /// Compiles a machine whose definition validation accepted; `consumer` resolves a Task's
    /// resource id.
    pub(crate) fn compile(
        m: &StateMachine,
        node: NodeId,
        consumer: &dyn Fn(&str) -> Option<ConsumerId>,
        seed: u64,
    ) -> Result<Self, String> {
        let def = Definition::parse(&m.definition).map_err(|e| {
            format!(
                "state machine {}: {}",
                m.id,
                e.first()
                    .map_or("invalid definition", |x| x.message.as_str())
            )
        })?;
        let mut defs = Vec::new();
        flatten(&def, "", consumer, &mut defs, &m.id)?;
        let timeout =
            def.timeout_s
                .map(secs)
                .or((m.kind == StateMachineType::Express)
                    .then(|| defaults::SFN_EXPRESS_MAX.as_nanos()));
        let states = defs
            .iter()
            .map(|d| vec![StateCounts::default(); d.machine.states.len()])
            .collect();
        Ok(MachineRt {
            node,
            defs: Arc::new(defs),
            timeout,
            duplicate_rate: if m.kind == StateMachineType::Express {
                m.duplicate_rate.unwrap_or(0.0)
            } else {
                0.0
            },
            rng: Stream::new(seed, &m.id, "executions"),
            started: 0,
            succeeded: 0,
            failed: 0,
            timed_out: 0,
            running: 0,
            compensated: 0,
            exec_time: Latency::new(),
            states,
        })
    }

    /// Every state's name and figures, machine states first, then branches and iterators.
    pub(crate) fn state_figures(&self) -> impl Iterator<Item = (&str, &StateCounts)> {
        self.defs
            .iter()
            .zip(&self.states)
            .flat_map(|(d, counts)| d.names.iter().map(String::as_str).zip(counts.iter()))
    }
}

fn flatten(
    def: &Definition,
    prefix: &str,
    consumer: &dyn Fn(&str) -> Option<ConsumerId>,
    out: &mut Vec<Def>,
    machine: &str,
) -> Result<usize, String> {
    let me = out.len();
    out.push(Def {
        machine: def.clone(),
        children: vec![Vec::new(); def.states.len()],
        consumers: vec![None; def.states.len()],
        names: def
            .states
            .iter()
            .map(|s| format!("{prefix}{}", s.name))
            .collect(),
    });
    for (i, s) in def.states.iter().enumerate() {
        match &s.kind {
            StateKind::Task { resource, .. } => {
                let c = consumer(resource).ok_or_else(|| {
                    format!(
                        "state machine {machine}: Task {} calls \"{resource}\", which is no consumer",
                        s.name
                    )
                })?;
                out[me].consumers[i] = Some(c);
            }
            StateKind::Parallel { branches } => {
                for (b, branch) in branches.iter().enumerate() {
                    let id = flatten(
                        branch,
                        &format!("{prefix}{}/{b}/", s.name),
                        consumer,
                        out,
                        machine,
                    )?;
                    out[me].children[i].push(id);
                }
            }
            StateKind::Map { iterator, .. } => {
                let id = flatten(
                    iterator,
                    &format!("{prefix}{}/", s.name),
                    consumer,
                    out,
                    machine,
                )?;
                out[me].children[i].push(id);
            }
            _ => {}
        }
    }
    Ok(me)
}

fn secs(s: f64) -> Nanos {
    (s * 1e9).round().max(0.0) as Nanos
}

/// Does an `ErrorEquals` list cover `error`? `States.ALL` covers every error and
/// `States.TaskFailed` every error but `States.Timeout` (concepts-error-handling.html).
fn covers(list: &[String], error: &str) -> bool {
    list.iter().any(|e| {
        e == "States.ALL" || e == error || (e == "States.TaskFailed" && error != "States.Timeout")
    })
}

/// An error: its name and cause.
type Failure = (String, String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Ready to run its current state.
    Ready,
    /// A Task call is out.
    Task,
    /// In a Wait state.
    Wait,
    /// Waiting for a retry of its current state.
    RetryWait,
    /// Waiting for its Parallel branches or Map iterations.
    Join,
}

struct Join {
    /// Map items (Parallel: the state's input, once per branch).
    items: Vec<Doc>,
    /// Children started so far.
    next: usize,
    /// Children running.
    active: usize,
    /// At most this many at once.
    max: usize,
    results: Vec<Doc>,
    children: Vec<u32>,
}

struct Thread {
    exec: u32,
    def: usize,
    state: usize,
    /// Changes at every transition and wait: events and Task results carrying an older one
    /// are stale. Never reset, also when the slot is reused.
    token: u32,
    live: bool,
    phase: Phase,
    /// The state's raw input.
    input: Doc,
    /// Retries per retrier of the current state.
    retries: Vec<u32>,
    /// Re-running the current state after a retry (its entry is not counted again).
    reentry: bool,
    /// (parent thread, index among its children).
    parent: Option<(u32, usize)>,
    join: Option<Join>,
    /// The journey hop of the current Task's latest call (traced runs only), where its Retry
    /// or Catch is noted.
    call_hop: u32,
}

struct Exec {
    machine: MachineId,
    trigger: MsgId,
    started: Nanos,
    measured: bool,
    compensated: bool,
    generation: u32,
    live: bool,
    root: u32,
}

enum Work {
    Run(u32),
    ChildDone {
        parent: u32,
        index: usize,
        result: Result<Doc, Failure>,
    },
}

/// The executions and threads alive, in slabs with free lists.
#[derive(Default)]
pub(crate) struct SmRuntime {
    execs: Vec<Exec>,
    free_execs: Vec<u32>,
    threads: Vec<Thread>,
    free_threads: Vec<u32>,
    work: std::collections::VecDeque<Work>,
    draining: bool,
    /// A shared `null`, left where a document is moved out (so moving one allocates nothing).
    null: Doc,
}

fn idx(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl SmRuntime {
    fn new_thread(
        &mut self,
        exec: u32,
        def: usize,
        state: usize,
        input: Doc,
        parent: Option<(u32, usize)>,
    ) -> u32 {
        let t = Thread {
            exec,
            def,
            state,
            token: 0,
            live: true,
            phase: Phase::Ready,
            input,
            retries: Vec::new(),
            reentry: false,
            parent,
            join: None,
            call_hop: super::journey::NO_HOP,
        };
        if let Some(i) = self.free_threads.pop() {
            let token = self.threads[i as usize].token.wrapping_add(1);
            self.threads[i as usize] = Thread { token, ..t };
            i
        } else {
            self.threads.push(t);
            idx(self.threads.len() - 1)
        }
    }

    /// Ends a thread and everything it started; stale events and results find it dead.
    fn kill(&mut self, t: u32) {
        let mut stack = vec![t];
        while let Some(t) = stack.pop() {
            let th = &mut self.threads[t as usize];
            if !th.live {
                continue;
            }
            th.live = false;
            th.token = th.token.wrapping_add(1);
            if let Some(j) = th.join.take() {
                stack.extend(j.children);
            }
            self.free_threads.push(t);
        }
    }
}

/// A JSON document flowing between states. States pass their input on unchanged more often
/// than not (no `InputPath`, `ResultPath` or `OutputPath`; a Task's result is its input), so
/// documents are shared, not copied: only a path that picks a part, or a `ResultPath` that
/// writes into one, builds a new document.
type Doc = Arc<Value>;

/// An owned document: moved out when nothing else shares it, else copied.
fn owned(d: Doc) -> Value {
    Arc::unwrap_or_clone(d)
}

/// `InputPath` / `OutputPath` applied to `v`: absent is all of it (shared), `null` an empty
/// object, a path the part it picks (`null` where nothing is).
fn apply_path(p: Option<&Option<JsonPath>>, v: &Doc) -> Doc {
    match p {
        None => Arc::clone(v),
        Some(None) => Arc::new(json!({})),
        Some(Some(path)) => Arc::new(path.get(v).cloned().unwrap_or(Value::Null)),
    }
}

impl Engine {
    /// A delivery `m` (owed, or an unowed duplicate) starts an execution of machine `mi`.
    pub(crate) fn sm_start(&mut self, mi: MachineId, m: MsgId) {
        let dup = {
            let mr = &mut self.machines[mi];
            mr.duplicate_rate > 0.0 && mr.rng.chance(mr.duplicate_rate)
        };
        if dup {
            // AWS starts asynchronous express executions at least once: a second execution
            // of the same event, which owes nothing.
            let copy = self.msgs[m].unowed_copy();
            let c = self.msgs.alloc(copy);
            self.sm_start_one(mi, c);
        }
        self.sm_start_one(mi, m);
    }

    fn sm_start_one(&mut self, mi: MachineId, m: MsgId) {
        let now = self.now;
        let measured = self.measuring();
        let node = self.machines[mi].node;
        self.msgs[m].target = None;
        self.msgs[m].arrived_at = now;
        self.msgs[m].measured = measured;
        self.trace_arrive(m, node);
        self.tally(node, Tally::Arrived, measured);
        if measured {
            self.machines[mi].started += 1;
            self.machines[mi].running += 1;
        }
        let input = Arc::clone(&self.msgs[m].payload);
        let start = self.machines[mi].defs[0].machine.start;
        let e = Exec {
            machine: mi,
            trigger: m,
            started: now,
            measured,
            compensated: false,
            generation: 0,
            live: true,
            root: 0,
        };
        let exec = if let Some(i) = self.sm.free_execs.pop() {
            let generation = self.sm.execs[i as usize].generation.wrapping_add(1);
            self.sm.execs[i as usize] = Exec { generation, ..e };
            i
        } else {
            self.sm.execs.push(e);
            idx(self.sm.execs.len() - 1)
        };
        let root = self.sm.new_thread(exec, 0, start, input, None);
        self.sm.execs[exec as usize].root = root;
        if let Some(limit) = self.machines[mi].timeout {
            let generation = self.sm.execs[exec as usize].generation;
            self.events
                .schedule(now + limit, Ev::SmTimeout { exec, generation });
        }
        self.sm.work.push_back(Work::Run(root));
        self.sm_drain();
    }

    fn sm_drain(&mut self) {
        if self.sm.draining {
            return;
        }
        self.sm.draining = true;
        while let Some(w) = self.sm.work.pop_front() {
            match w {
                Work::Run(t) => self.sm_run(t),
                Work::ChildDone {
                    parent,
                    index,
                    result,
                } => self.sm_child_done(parent, index, result),
            }
        }
        self.sm.draining = false;
    }

    fn exec_live(&self, t: u32) -> bool {
        let th = &self.sm.threads[t as usize];
        th.live && self.sm.execs[th.exec as usize].live
    }

    /// Runs thread `t` until it waits or ends.
    fn sm_run(&mut self, t: u32) {
        let mut steps = 0u32;
        while self.exec_live(t) && self.sm.threads[t as usize].phase == Phase::Ready {
            steps += 1;
            if steps > MAX_INSTANT_STEPS {
                self.sm_thread_end(
                    t,
                    Err((
                        "States.Runtime".into(),
                        format!("more than {MAX_INSTANT_STEPS} states at one instant (a cycle without a Wait or Task)"),
                    )),
                );
                return;
            }
            self.sm_step(t);
        }
    }

    fn machine_of(&self, t: u32) -> MachineId {
        self.sm.execs[self.sm.threads[t as usize].exec as usize].machine
    }

    /// Processes the current state of a ready thread once.
    fn sm_step(&mut self, t: u32) {
        let mi = self.machine_of(t);
        let defs = Arc::clone(&self.machines[mi].defs);
        let (di, si) = {
            let th = &self.sm.threads[t as usize];
            (th.def, th.state)
        };
        let d = &defs[di];
        let state = &d.machine.states[si];
        let measuring = self.measuring();
        {
            let th = &mut self.sm.threads[t as usize];
            if th.reentry {
                th.reentry = false;
            } else {
                th.retries = vec![0; state.retry.len()];
                if measuring {
                    self.machines[mi].states[di][si].entries += 1;
                }
            }
        }
        let eff = apply_path(
            state.input_path.as_ref(),
            &self.sm.threads[t as usize].input,
        );
        match &state.kind {
            StateKind::Pass { result } => {
                let r = result.as_ref().map_or(eff, |r| Arc::new(r.clone()));
                self.sm_state_done(t, r);
            }
            StateKind::Choice { choices, default } => {
                let next = choices
                    .iter()
                    .find(|c| c.condition.eval(&eff))
                    .map(|c| &c.next)
                    .or(default.as_ref());
                match next {
                    Some(n) => {
                        let out = apply_path(state.output_path.as_ref(), &eff);
                        self.sm_goto(t, d.machine.by_name[n], out);
                    }
                    None => self.sm_state_error(
                        t,
                        (
                            "States.NoChoiceMatched".into(),
                            "no Choice rule matched".into(),
                        ),
                    ),
                }
            }
            StateKind::Wait(w) => {
                let s = match w {
                    WaitFor::Seconds(s) => Some(*s),
                    WaitFor::SecondsPath(p) => p.get(&eff).and_then(Value::as_f64),
                };
                match s.filter(|s| *s >= 0.0) {
                    Some(s) => self.sm_sleep(t, Phase::Wait, secs(s)),
                    None => self.sm_state_error(
                        t,
                        (
                            "States.Runtime".into(),
                            "SecondsPath does not name a non-negative number".into(),
                        ),
                    ),
                }
            }
            StateKind::Succeed => {
                let out = apply_path(state.output_path.as_ref(), &eff);
                self.sm_thread_end(t, Ok(out));
            }
            StateKind::Fail { error } => {
                let e = error.clone().unwrap_or_else(|| "States.Fail".into());
                self.sm_thread_end(t, Err((e, "a Fail state".into())));
            }
            StateKind::Task { timeout_s, .. } => {
                let c = d.consumers[si].expect("compiled Tasks resolve to consumers");
                let token = {
                    let th = &mut self.sm.threads[t as usize];
                    th.token = th.token.wrapping_add(1);
                    th.phase = Phase::Task;
                    th.token
                };
                match self.sm_call(t, token, c, eff) {
                    Ok(()) => {
                        if let Some(s) = timeout_s {
                            self.events
                                .schedule(self.now + secs(*s), Ev::SmWake { thread: t, token });
                        }
                    }
                    Err(f) => self.sm_state_error(t, f),
                }
            }
            StateKind::Parallel { .. } | StateKind::Map { .. } => {
                let (items, max) = match &state.kind {
                    StateKind::Map {
                        items_path,
                        max_concurrency,
                        ..
                    } => {
                        let items = match items_path {
                            None => Some(&*eff),
                            Some(p) => p.get(&eff),
                        };
                        let Some(Value::Array(items)) = items else {
                            self.sm_state_error(
                                t,
                                (
                                    "States.Runtime".into(),
                                    "ItemsPath does not name an array".into(),
                                ),
                            );
                            return;
                        };
                        let max = if *max_concurrency == 0 {
                            usize::MAX
                        } else {
                            *max_concurrency as usize
                        };
                        (items.iter().cloned().map(Arc::new).collect(), max)
                    }
                    _ => (vec![eff; d.children[si].len()], usize::MAX),
                };
                let n = items.len();
                {
                    let th = &mut self.sm.threads[t as usize];
                    th.phase = Phase::Join;
                    th.join = Some(Join {
                        items,
                        next: 0,
                        active: 0,
                        max,
                        results: std::iter::repeat_n(&self.sm.null, n).cloned().collect(),
                        children: Vec::new(),
                    });
                }
                if n == 0 {
                    self.sm.threads[t as usize].join = None;
                    self.sm.threads[t as usize].phase = Phase::Ready;
                    self.sm_state_done(t, Arc::new(Value::Array(Vec::new())));
                } else {
                    self.sm_fill(t, &defs);
                }
            }
        }
    }

    /// Starts children of a joining thread up to its limit.
    fn sm_fill(&mut self, t: u32, defs: &[Def]) {
        let (di, si, exec) = {
            let th = &self.sm.threads[t as usize];
            (th.def, th.state, th.exec)
        };
        let kids = &defs[di].children[si];
        loop {
            let Some(j) = self.sm.threads[t as usize].join.as_mut() else {
                return;
            };
            if j.next >= j.items.len() || j.active >= j.max {
                return;
            }
            let index = j.next;
            j.next += 1;
            j.active += 1;
            let input = std::mem::replace(&mut j.items[index], Arc::clone(&self.sm.null));
            let child_def = if kids.len() > 1 { kids[index] } else { kids[0] };
            let start = defs[child_def].machine.start;
            let c = self
                .sm
                .new_thread(exec, child_def, start, input, Some((t, index)));
            if let Some(j) = self.sm.threads[t as usize].join.as_mut() {
                j.children.push(c);
            }
            self.sm.work.push_back(Work::Run(c));
        }
    }

    fn sm_child_done(&mut self, parent: u32, index: usize, result: Result<Doc, Failure>) {
        if !self.exec_live(parent) || self.sm.threads[parent as usize].phase != Phase::Join {
            return;
        }
        match result {
            Ok(v) => {
                let finished = {
                    let Some(j) = self.sm.threads[parent as usize].join.as_mut() else {
                        return;
                    };
                    j.results[index] = v;
                    j.active -= 1;
                    j.next >= j.items.len() && j.active == 0
                };
                if finished {
                    let j = self.sm.threads[parent as usize]
                        .join
                        .take()
                        .expect("checked above");
                    self.sm.threads[parent as usize].phase = Phase::Ready;
                    let results = j.results.into_iter().map(owned).collect();
                    self.sm_state_done(parent, Arc::new(Value::Array(results)));
                    self.sm.work.push_back(Work::Run(parent));
                } else {
                    let mi = self.machine_of(parent);
                    let defs = Arc::clone(&self.machines[mi].defs);
                    self.sm_fill(parent, &defs);
                }
            }
            Err(f) => {
                if let Some(j) = self.sm.threads[parent as usize].join.take() {
                    for c in j.children {
                        self.sm.kill(c);
                    }
                }
                self.sm.threads[parent as usize].phase = Phase::Ready;
                self.sm_state_error(parent, f);
                self.sm.work.push_back(Work::Run(parent));
            }
        }
    }

    /// A Task's call to consumer `c`: an unowed message marked as this thread's.
    fn sm_call(&mut self, t: u32, token: u32, c: ConsumerId, payload: Doc) -> Result<(), Failure> {
        let exec = self.sm.threads[t as usize].exec;
        let trigger = self.sm.execs[exec as usize].trigger;
        let mut cause = self.msg_cause(trigger);
        let measuring = self.measuring();
        let cn = self.consumers[c].node;
        // A traced execution shows each call as a hop of its own under the machine's: which
        // state called which consumer, and its attempt.
        let attempt = 1 + self.sm.threads[t as usize].retries.iter().sum::<u32>();
        if self.tracer.is_some() {
            let mi = self.machine_of(t);
            let th = &self.sm.threads[t as usize];
            let via = format!("Task {}", self.machines[mi].defs[th.def].names[th.state]);
            cause.hop = self.trace_open(cause, cn, Some(&via));
            self.sm.threads[t as usize].call_hop = cause.hop;
        }
        if self.consumers[c].refuses(&payload) {
            self.tally(cn, Tally::Failed, measuring);
            self.trace_end_hop(cause, "failed", Some("reject_when matched: a 4xx".into()));
            return Err((
                "States.TaskFailed".into(),
                "reject_when matched: a 4xx".into(),
            ));
        }
        if !self.can_start(c) {
            self.tally(cn, Tally::Throttled, measuring);
            let name = if self.consumers[c].asynchronous.is_some() {
                "Lambda.TooManyRequestsException"
            } else {
                "States.TaskFailed"
            };
            self.trace_end_hop(cause, "throttled", Some(format!("{name}: no free slot")));
            return Err((name.into(), "no free slot (throttled)".into()));
        }
        let m = self.call_msg(
            c,
            payload,
            trigger,
            super::message::Caller::Task { thread: t, token },
        );
        // The call is a hop of its own under the machine's (when traced).
        self.msgs[m].hop = cause.hop;
        self.trace_start(m, Some(attempt), None);
        let mut buf = std::mem::take(&mut self.batch_buf);
        buf.clear();
        buf.push(m);
        self.start_batch(c, &buf, u32::MAX);
        self.batch_buf = buf;
        Ok(())
    }

    /// A Task call ended (from the consumer's `done`): `failure` is its error, if any.
    pub(crate) fn sm_task_done(&mut self, owner: (u32, u32), failure: Option<&'static str>) {
        let (t, token) = owner;
        let Some(th) = self.sm.threads.get(t as usize) else {
            return;
        };
        if !th.live || th.token != token || th.phase != Phase::Task || !self.exec_live(t) {
            return; // timed out, or the execution ended meanwhile
        }
        self.sm.threads[t as usize].phase = Phase::Ready;
        match failure {
            None => {
                let mi = self.machine_of(t);
                let defs = Arc::clone(&self.machines[mi].defs);
                let th = &self.sm.threads[t as usize];
                let state = &defs[th.def].machine.states[th.state];
                let eff = apply_path(state.input_path.as_ref(), &th.input);
                self.sm_state_done(t, eff);
            }
            Some(why) => self.sm_state_error(t, ("States.TaskFailed".into(), why.into())),
        }
        self.sm.work.push_back(Work::Run(t));
        self.sm_drain();
    }

    /// A wait of thread `t` ends (Wait, Retry interval, Task timeout).
    pub(crate) fn sm_wake(&mut self, t: u32, token: u32) {
        let Some(th) = self.sm.threads.get(t as usize) else {
            return;
        };
        if !th.live || th.token != token || !self.exec_live(t) {
            return;
        }
        match th.phase {
            Phase::Task => {
                // TimeoutSeconds: the late result finds a new token and is ignored.
                let th = &mut self.sm.threads[t as usize];
                th.token = th.token.wrapping_add(1);
                th.phase = Phase::Ready;
                self.sm_state_error(
                    t,
                    (
                        "States.Timeout".into(),
                        "the Task's TimeoutSeconds passed".into(),
                    ),
                );
            }
            Phase::Wait => {
                let mi = self.machine_of(t);
                let defs = Arc::clone(&self.machines[mi].defs);
                let th = &self.sm.threads[t as usize];
                let state = &defs[th.def].machine.states[th.state];
                let eff = apply_path(state.input_path.as_ref(), &th.input);
                self.sm.threads[t as usize].phase = Phase::Ready;
                self.sm_output(t, eff, &defs);
            }
            Phase::RetryWait => {
                let th = &mut self.sm.threads[t as usize];
                th.phase = Phase::Ready;
                th.reentry = true;
            }
            Phase::Ready | Phase::Join => return,
        }
        self.sm.work.push_back(Work::Run(t));
        self.sm_drain();
    }

    fn sm_sleep(&mut self, t: u32, phase: Phase, dt: Nanos) {
        let th = &mut self.sm.threads[t as usize];
        th.token = th.token.wrapping_add(1);
        th.phase = phase;
        let token = th.token;
        self.events
            .schedule(self.now + dt, Ev::SmWake { thread: t, token });
    }

    /// The current state produced `result`: `ResultPath`, `OutputPath`, then on.
    fn sm_state_done(&mut self, t: u32, result: Doc) {
        let mi = self.machine_of(t);
        let defs = Arc::clone(&self.machines[mi].defs);
        let th = &mut self.sm.threads[t as usize];
        let state = &defs[th.def].machine.states[th.state];
        let raw = std::mem::replace(&mut th.input, Arc::clone(&self.sm.null));
        let combined = match &state.result_path {
            None => result,
            Some(None) => raw,
            Some(Some(p)) => Arc::new(p.set(owned(raw), owned(result))),
        };
        self.sm_output(t, combined, &defs);
    }

    /// `OutputPath` applied to `v`, then the next state or the end.
    fn sm_output(&mut self, t: u32, v: Doc, defs: &[Def]) {
        let th = &self.sm.threads[t as usize];
        let d = &defs[th.def];
        let state = &d.machine.states[th.state];
        let out = apply_path(state.output_path.as_ref(), &v);
        match (&state.next, state.end) {
            (Some(n), _) => self.sm_goto(t, d.machine.by_name[n], out),
            _ => self.sm_thread_end(t, Ok(out)),
        }
    }

    fn sm_goto(&mut self, t: u32, state: usize, input: Doc) {
        let th = &mut self.sm.threads[t as usize];
        th.token = th.token.wrapping_add(1);
        th.state = state;
        th.input = input;
        th.phase = Phase::Ready;
        th.reentry = false;
    }

    /// The current state failed with `f`: Retry, else Catch, else the thread fails.
    fn sm_state_error(&mut self, t: u32, f: Failure) {
        let mi = self.machine_of(t);
        let defs = Arc::clone(&self.machines[mi].defs);
        let (di, si) = {
            let th = &self.sm.threads[t as usize];
            (th.def, th.state)
        };
        let d = &defs[di];
        let state = &d.machine.states[si];
        let measuring = self.measuring();
        // The call this error came from, if it was a traced Task call: its hop hears the
        // decision.
        let call = if matches!(state.kind, StateKind::Task { .. }) {
            std::mem::replace(
                &mut self.sm.threads[t as usize].call_hop,
                super::journey::NO_HOP,
            )
        } else {
            super::journey::NO_HOP
        };
        let exec_root = {
            let exec = self.sm.threads[t as usize].exec;
            self.msgs[self.sm.execs[exec as usize].trigger].root
        };
        let call = super::journey::Cause {
            root: exec_root,
            hop: call,
        };
        if let Some(r) = state
            .retry
            .iter()
            .position(|r| covers(&r.error_equals, &f.0))
        {
            let retrier = &state.retry[r];
            let k = self.sm.threads[t as usize]
                .retries
                .get(r)
                .copied()
                .unwrap_or(0);
            if k < retrier.max_attempts {
                let mut delay = retrier.delay_s(k);
                if retrier.full_jitter {
                    delay = self.machines[mi].rng.uniform(0.0, delay);
                }
                if let Some(x) = self.sm.threads[t as usize].retries.get_mut(r) {
                    *x += 1;
                }
                if measuring {
                    self.machines[mi].states[di][si].retries += 1;
                }
                self.trace_hop_note(
                    call,
                    format!(
                        "{}; Retry {} of {}: next attempt after {delay:.3}s",
                        f.0,
                        k + 1,
                        retrier.max_attempts
                    ),
                );
                self.sm_sleep(t, Phase::RetryWait, secs(delay));
                return;
            }
        }
        if measuring {
            self.machines[mi].states[di][si].failures += 1;
        }
        if let Some(c) = state.catch.iter().find(|c| covers(&c.error_equals, &f.0)) {
            self.trace_hop_note(call, format!("{}; caught by Catch → {}", f.0, c.next));
            let exec = self.sm.threads[t as usize].exec;
            self.sm.execs[exec as usize].compensated = true;
            let err = json!({ "Error": f.0, "Cause": f.1 });
            let raw = std::mem::replace(
                &mut self.sm.threads[t as usize].input,
                Arc::clone(&self.sm.null),
            );
            let input = Arc::new(match &c.result_path {
                None => err,
                Some(p) => p.set(owned(raw), err),
            });
            self.sm_goto(t, d.machine.by_name[&c.next], input);
            return;
        }
        self.trace_hop_note(
            call,
            format!("{}; no Catch covers it: the state fails", f.0),
        );
        self.sm_thread_end(t, Err(f));
    }

    /// Thread `t` ended: its parent hears of it, or (the root) the execution ends.
    fn sm_thread_end(&mut self, t: u32, result: Result<Doc, Failure>) {
        let th = &self.sm.threads[t as usize];
        let (exec, parent) = (th.exec, th.parent);
        if let Some((p, index)) = parent {
            self.sm.kill(t);
            if let Some(j) = self.sm.threads[p as usize].join.as_mut() {
                j.children.retain(|c| *c != t);
            }
            self.sm.work.push_back(Work::ChildDone {
                parent: p,
                index,
                result,
            });
        } else {
            let end = if result.is_ok() {
                End::Succeeded
            } else {
                End::Failed
            };
            self.sm_exec_end(exec, end);
        }
    }

    /// The machine's `TimeoutSeconds` (or the express limit) passed.
    pub(crate) fn sm_exec_timeout(&mut self, exec: u32, generation: u32) {
        let Some(e) = self.sm.execs.get(exec as usize) else {
            return;
        };
        if e.live && e.generation == generation {
            self.sm_exec_end(exec, End::TimedOut);
        }
    }

    fn sm_exec_end(&mut self, exec: u32, end: End) {
        let now = self.now;
        let e = &mut self.sm.execs[exec as usize];
        e.live = false;
        let (mi, m, root, measured, compensated, started) = (
            e.machine,
            e.trigger,
            e.root,
            e.measured,
            e.compensated,
            e.started,
        );
        self.sm.kill(root);
        self.sm.free_execs.push(exec);
        let node = self.machines[mi].node;
        if measured {
            let mr = &mut self.machines[mi];
            mr.running -= 1;
            match end {
                End::Succeeded => mr.succeeded += 1,
                End::Failed => mr.failed += 1,
                End::TimedOut => mr.timed_out += 1,
            }
            mr.compensated += u64::from(compensated);
            mr.exec_time.record(now - started);
            self.stats[node].latency.record(now - started);
            self.series.latency(node.index(), now, now - started);
        }
        let tally = if end == End::Succeeded {
            Tally::Completed
        } else {
            Tally::Failed
        };
        self.tally(node, tally, measured);
        // The triggering delivery ends with its execution, whatever the ending; a journey's
        // machine hop lasts as long.
        self.trace_end(
            m,
            match end {
                End::Succeeded => "succeeded",
                End::Failed => "failed",
                End::TimedOut => "timed_out",
            },
            || compensated.then(|| "compensated: a Catch ran".to_owned()),
        );
        // The triggering delivery ends with its execution, whatever the ending.
        if self.msgs[m].owed() {
            if self.msgs[m].measured {
                self.e2e.record(now - self.msgs[m].origin_at);
            }
            self.trace_chain_end(m);
        }
        self.settle(m, Outcome::Completed);
        self.msgs.free(m);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Succeeded,
    Failed,
    TimedOut,
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn task_failed_covers_everything_but_timeouts() {
        let tf = vec!["States.TaskFailed".to_owned()];
        assert!(covers(&tf, "Lambda.TooManyRequestsException"));
        assert!(!covers(&tf, "States.Timeout"));
        assert!(covers(&["States.ALL".to_owned()], "States.Timeout"));
        assert!(!covers(&["X".to_owned()], "Y"));
    }
}
