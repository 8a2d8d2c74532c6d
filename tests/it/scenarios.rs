//! The bundled workshop scenarios in `scenarios/`: each loads, runs, balances, and teaches what
//! its description says. Every lesson is asserted against queueing theory or the documented
//! behaviour of the services it models (SQS, `EventBridge`, Kinesis/Kafka), with the scenario's own
//! parameters, never against a figure copied from an earlier run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use eventflow::analysis::capacity::{capacity, zipf_normalizer};
use eventflow::analysis::{
    HotKeyPlan, dead_letter_fraction, drain_time_s, mmc, partitions_for_hot_key,
    retry_amplification, servers_for_utilization,
};
use eventflow::model::Scenario;
use eventflow::sim::{NodeResult, Results, RunOptions, Simulation};

const SEC: f64 = 1e9;

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Loads `scenarios/<file>` with its lint warnings, panicking with every problem when invalid.
fn load_with_warnings(file: &str) -> (Scenario, Vec<String>) {
    match eventflow::scenario::load(&scenarios_dir().join(file)) {
        Ok(l) => (
            l.scenario,
            l.warnings.iter().map(ToString::to_string).collect(),
        ),
        Err(e) => panic!("{e}"),
    }
}

fn load(file: &str) -> Scenario {
    load_with_warnings(file).0
}

/// One scenario's run, computed by whichever test asks first.
type RunCell = Arc<OnceLock<Arc<Results>>>;

/// The full run of a bundled scenario, computed once and shared between tests.
fn full_run(file: &str) -> Arc<Results> {
    static CACHE: OnceLock<Mutex<BTreeMap<String, RunCell>>> = OnceLock::new();
    let cell = {
        let mut map = CACHE
            .get_or_init(Default::default)
            .lock()
            .expect("cache lock");
        Arc::clone(map.entry(file.to_owned()).or_default())
    };
    Arc::clone(cell.get_or_init(|| {
        let s = load(file);
        Arc::new(
            eventflow::sim::run(&s, &RunOptions::default())
                .unwrap_or_else(|e| panic!("{file}: {e}")),
        )
    }))
}

fn sim(file: &str) -> Simulation {
    Simulation::new(&load(file), &RunOptions::default()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Advances to `t_s` seconds and returns the figures so far.
fn at(sim: &mut Simulation, t_s: f64) -> Results {
    sim.advance_to((t_s * SEC) as u64);
    sim.summary()
}

fn node<'a>(r: &'a Results, id: &str) -> &'a NodeResult {
    r.nodes
        .get(id)
        .unwrap_or_else(|| panic!("no node {id} in the results"))
}

fn lag(r: &Results, id: &str) -> u64 {
    node(r, id)
        .lag
        .unwrap_or_else(|| panic!("{id} reports no lag"))
}

fn reason(n: &NodeResult, name: &str) -> u64 {
    n.dead_letter_reasons.get(name).copied().unwrap_or(0)
}

/// Steps the run from `from_s` in `step_s` increments until `id`'s lag is at most `threshold`;
/// returns the seconds that took.
fn seconds_until_drained(
    sim: &mut Simulation,
    id: &str,
    from_s: f64,
    step_s: f64,
    threshold: u64,
) -> f64 {
    let mut t = from_s;
    while t < sim.end() as f64 / SEC {
        t += step_s;
        if lag(&at(sim, t), id) <= threshold {
            return t - from_s;
        }
    }
    panic!("{id} never drained below {threshold} messages");
}

fn assert_within(what: &str, actual: f64, expected: f64, rel: f64) {
    assert!(
        (actual - expected).abs() <= rel * expected.abs(),
        "{what}: expected {expected:.4} ± {:.1} %, got {actual:.4}",
        rel * 100.0
    );
}

/// Standard normal CDF (Abramowitz–Stegun 7.1.26 for erf, error below 1.5e-7).
fn phi(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// A binomial proportion: `hits` of `n` agrees with probability `p` within 4 standard errors.
fn assert_proportion(what: &str, hits: u64, n: u64, p: f64) {
    let observed = hits as f64 / n as f64;
    let se = (p * (1.0 - p) / n as f64).sqrt();
    assert!(
        (observed - p).abs() <= 4.0 * se,
        "{what}: {observed:.4} vs theory {p:.4} (4σ = {:.4})",
        4.0 * se
    );
}

// ----- every file --------------------------------------------------------------------------------

/// Warnings a scenario is meant to show, each explained in its description.
fn intended_warnings(file: &str) -> &'static [&'static str] {
    match file {
        "poison-message.json" => &["has no async.on_failure"],
        "hot-partition-more-consumers.json" => &["sit idle"],
        "feedback-loop.json" => &["event routing loop"],
        _ => &[],
    }
}

#[test]
fn every_bundled_scenario_loads_explains_itself_lays_out_and_balances() {
    let mut files: Vec<String> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/ exists")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 12,
        "twelve workshop scenarios at least, found {files:?}"
    );
    assert!(
        files.iter().any(|f| f == "order-fanout.json"),
        "the app's default scenario is bundled"
    );
    let mut names = BTreeSet::new();
    for file in &files {
        assert!(
            file.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'),
            "{file}: file names are kebab-case"
        );
        let (s, warnings) = load_with_warnings(file);
        assert!(
            names.insert(s.name.clone()),
            "{file}: the menu needs unique names, {:?} repeats",
            s.name
        );
        for w in &warnings {
            assert!(
                intended_warnings(file).iter().any(|x| w.contains(x)),
                "{file}: unexplained warning: {w}"
            );
        }
        for x in intended_warnings(file) {
            assert!(
                warnings.iter().any(|w| w.contains(x)),
                "{file}: the warning its description explains ({x}) is gone"
            );
        }
        let paragraphs = s
            .description
            .split("\n\n")
            .filter(|p| !p.trim().is_empty())
            .count();
        assert!(
            paragraphs >= 3,
            "{file}: the description has {paragraphs} paragraphs, want at least 3"
        );
        // Every canvas node (components and rules) has a position, left to right by kind.
        let mut ids: Vec<&str> = s.components().into_iter().map(|(id, _)| id).collect();
        ids.extend(
            s.buses
                .iter()
                .flat_map(|b| b.rules.iter().map(|r| r.id.as_str())),
        );
        for id in &ids {
            assert!(
                s.layout.contains_key(*id),
                "{file}: no layout position for {id}"
            );
        }
        for p in &s.producers {
            let x = s.layout[&p.id][0];
            for c in &s.consumers {
                assert!(
                    s.layout[&c.id][0] > x,
                    "{file}: consumer {} is not right of producer {}",
                    c.id,
                    p.id
                );
            }
        }
        let r = full_run(file);
        let c = &r.conservation;
        assert_eq!(
            c.deliveries,
            c.completed + c.dead_lettered + c.rejected + c.expired + c.dropped + c.in_flight,
            "{file}: conservation does not balance: {c:?}"
        );
        if file != "feedback-loop.json" {
            assert!(
                r.engine.stopped.is_none(),
                "{file}: stopped early: {:?}",
                r.engine.stopped
            );
        }
    }
}

// ----- 1. fan-out ----------------------------------------------------------------------------------

#[test]
fn fanout_copies_every_order_to_each_subscriber_and_a_new_subscriber_changes_nothing_upstream() {
    let file = "order-fanout.json";
    let r = full_run(file);
    let orders = node(&r, "checkout").completed;
    assert!(orders > 10_000);
    assert_eq!(r.conservation.unmatched, 0);
    for c in ["inventory", "payment", "email", "analytics"] {
        assert_eq!(
            node(&r, c).arrived,
            orders,
            "{c} receives one copy of every order"
        );
    }
    assert_eq!(r.conservation.deliveries, 4 * orders);

    // Add a fifth subscriber the way a new team would: its own rule, queue and consumer.
    let mut s = load(file);
    let mut rule = s.buses[0].rules[0].clone();
    rule.id = "loyalty-sub".into();
    rule.targets[0].to = "loyalty-q".into();
    s.buses[0].rules.push(rule);
    let mut q = s.queues[0].clone();
    q.id = "loyalty-q".into();
    s.queues.push(q);
    let mut c = s.consumers[0].clone();
    c.id = "loyalty".into();
    c.from = Some("loyalty-q".into());
    s.consumers.push(c);
    let five = eventflow::sim::run(&s, &RunOptions::default()).expect("runs");
    assert_eq!(node(&five, "loyalty").arrived, orders);
    for (id, before) in &r.nodes.0 {
        let after = node(&five, id);
        assert_eq!(
            serde_json::to_value(before).unwrap(),
            serde_json::to_value(after).unwrap(),
            "{id} changed when a subscriber was added"
        );
    }
}

// ----- 2. content-based routing ------------------------------------------------------------------

#[test]
fn content_routing_splits_by_amount_and_by_market_without_gaps_or_overlaps() {
    let r = full_run("content-routing.json");
    let orders = node(&r, "checkout").completed;
    assert_eq!(
        r.conservation.in_flight, 0,
        "the producer stops early so every copy settles"
    );
    assert_eq!(r.conservation.unmatched, 0);
    let fraud = node(&r, "fraud-check").completed;
    let standard = node(&r, "order-handler").completed;
    assert_eq!(
        fraud + standard,
        orders,
        ">= 1000 and < 1000 cover every order exactly once"
    );
    let eu = node(&r, "eu-fulfilment").completed;
    assert_eq!(
        eu + node(&r, "global-fulfilment").completed,
        orders,
        "prefix and anything-but prefix partition the markets"
    );
    // Totals are lognormal(mean 250, sd 500): P(X ≥ 1000) = 1 − Φ((ln 1000 − μ) / σ).
    let (m, sd): (f64, f64) = (250.0, 500.0);
    let sigma2 = (1.0 + (sd / m).powi(2)).ln();
    let mu = m.ln() - sigma2 / 2.0;
    let p_high = 1.0 - phi((1000f64.ln() - mu) / sigma2.sqrt());
    assert_proportion(
        "share of orders routed to fraud-check",
        fraud,
        orders,
        p_high,
    );
    assert_proportion("share of orders in eu- markets", eu, orders, 0.2 + 0.1);
}

// ----- 3. retries and the DLQ ----------------------------------------------------------------------

#[test]
fn retries_fill_the_dlq_with_p_cubed_of_the_fault_window_and_the_redrive_empties_it() {
    let file = "retries-dlq.json";
    let s = load(file);
    let lambda = s.producers[0].rate;
    let fault = &s.faults[0];
    let p = fault.rate.expect("an errors fault");
    let q = &s.queues[0];
    let receives = q.max_receives.expect("a redrive policy");
    let visibility_s = q.visibility_timeout.expect("a visibility timeout").0 as f64 / SEC;
    let window_s = (fault.to.0 - fault.from.0) as f64 / SEC;
    // A message is dead-lettered when all its receives fail inside the fault window; the last
    // receive comes (max_receives − 1) visibility timeouts after the first.
    let expected = lambda
        * (window_s - f64::from(receives - 1) * visibility_s)
        * dead_letter_fraction(p, receives - 1).unwrap();

    let mut sim = sim(file);
    let before_redrive = at(&mut sim, 7.0 * 60.0);
    let parked = lag(&before_redrive, "payments-dlq") as f64;
    assert_within("DLQ depth before the redrive", parked, expected, 0.10);
    assert_eq!(
        reason(node(&before_redrive, "payments-q"), "max_receives") as f64,
        parked
    );
    // A redrive is an SQS message move task, at most 500 messages a second
    // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html):
    // halfway through it about half the DLQ is left, and it is empty once parked / 500 s pass.
    let move_s = parked / 500.0;
    let halfway = at(&mut sim, 8.0 * 60.0 + move_s / 2.0);
    assert_within(
        "DLQ depth halfway through the redrive",
        lag(&halfway, "payments-dlq") as f64,
        parked / 2.0,
        0.05,
    );
    let after_redrive = at(&mut sim, 8.0 * 60.0 + move_s + 1.0);
    assert_eq!(
        lag(&after_redrive, "payments-dlq"),
        0,
        "the redrive moves every message back"
    );
    sim.run_to_end();
    let end = sim.results();
    assert_eq!(lag(&end, "payments-dlq"), 0);
    assert_eq!(
        lag(&end, "payments-q"),
        0,
        "the fixed consumer processes every redriven message"
    );
    assert_eq!(
        end.conservation.dropped + end.conservation.rejected + end.conservation.expired,
        0,
        "nothing is lost"
    );
}

// ----- 4. poison message ---------------------------------------------------------------------------

#[test]
fn poison_messages_are_dropped_without_a_dlq_and_parked_after_max_receives_with_one() {
    let file = "poison-message.json";
    let s = load(file);
    let r = full_run(file);
    assert_eq!(
        r.conservation.in_flight, 0,
        "the producer stops early so every message settles"
    );
    let produced = node(&r, "order-import").completed;
    let poison = reason(node(&r, "invoice-lambda"), "retries_exhausted");
    assert_proportion("share of schemaVersion 1 events", poison, produced, 0.01);
    assert!(poison > 0);
    // Asynchronous invocation without async.on_failure: Lambda's 1 + 2 tries
    // (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html), then
    // dropped (lost).
    let attempts = s.consumers[0].async_in_force().retries;
    assert_eq!(attempts, 2);
    assert_eq!(
        r.conservation.dropped, poison,
        "without a DLQ the poison events are lost"
    );
    assert_eq!(
        node(&r, "invoice-lambda").failed,
        u64::from(attempts + 1) * poison
    );
    // SQS redrive: max_receives failed receives, then the DLQ.
    let max_receives = s.queues[0].max_receives.unwrap();
    assert_eq!(
        lag(&r, "invoice-dlq"),
        poison,
        "with a redrive policy every poison message is parked"
    );
    assert_eq!(
        node(&r, "invoice-worker").failed,
        u64::from(max_receives) * poison
    );
    assert_eq!(
        node(&r, "invoice-worker").completed,
        produced - poison,
        "every good message completes"
    );
}

// ----- 5. ordering ---------------------------------------------------------------------------------

#[test]
fn a_fifo_queue_keeps_each_account_in_order_where_a_standard_queue_reorders_at_a_latency_cost() {
    let r = full_run("ordering-standard-vs-fifo.json");
    let standard = node(&r, "balance-standard");
    let fifo = node(&r, "balance-fifo");
    assert!(
        standard.out_of_order > 0,
        "best-effort ordering applies withdrawals before deposits"
    );
    assert_eq!(
        fifo.out_of_order, 0,
        "one in-flight message per group keeps strict order"
    );
    assert!(
        fifo.latency_s.mean_s > standard.latency_s.mean_s,
        "group blocking is not work-conserving: FIFO waits longer ({} vs {})",
        fifo.latency_s.mean_s,
        standard.latency_s.mean_s
    );
}

// ----- 6. hot partition ----------------------------------------------------------------------------

#[test]
fn a_hot_key_makes_one_partition_lag_and_more_instances_than_partitions_do_not_help() {
    let s = load("hot-partition.json");
    let r = full_run("hot-partition.json");
    let lambda = s.producers[0].rate;
    let mu = 1.0 / (s.consumers[0].service_time.mean_ns() / SEC);
    let partitions = s.streams[0].partitions;
    let share = 1.0 / zipf_normalizer(1000, 1.2);
    assert!(
        lambda < f64::from(partitions) * mu,
        "pooled, the group would keep up"
    );
    assert!(
        matches!(
            partitions_for_hot_key(lambda, mu, share).unwrap(),
            HotKeyPlan::KeyExceedsInstance { .. }
        ),
        "the hottest key alone exceeds one instance"
    );
    // The hot key's partition falls behind at least at share·λ − μ per second.
    let duration_s = s.duration.0 as f64 / SEC;
    let floor = (share * lambda - mu) * duration_s;
    assert!(
        lag(&r, "orders-stream") as f64 >= 0.9 * floor,
        "stream lag {} < {floor}",
        lag(&r, "orders-stream")
    );
    let group = node(&r, "order-projection");
    assert!(
        group.throughput < 0.97 * lambda,
        "throughput capped by the hot partition"
    );
    assert!(
        group.utilization < 0.7,
        "while most instances idle: {}",
        group.utilization
    );

    let (_, warnings) = load_with_warnings("hot-partition-more-consumers.json");
    assert!(warnings.iter().any(|w| w.contains("sit idle")));
    let more = full_run("hot-partition-more-consumers.json");
    let wide = node(&more, "order-projection");
    assert_within(
        "throughput with 16 instances",
        wide.throughput,
        group.throughput,
        0.01,
    );
    assert_within(
        "lag with 16 instances",
        lag(&more, "orders-stream") as f64,
        lag(&r, "orders-stream") as f64,
        0.01,
    );
    assert_within(
        "utilization with 16 instances",
        wide.utilization,
        group.utilization / 2.0,
        0.01,
    );
}

// ----- 7. flash sale -------------------------------------------------------------------------------

/// (base rate, spike rate, spike seconds, c, μ, capacity) of the flash-sale scenarios.
fn flash_parameters(s: &Scenario) -> (f64, f64, f64, u32, f64, f64) {
    let p = &s.producers[0];
    let spike_s = (p.schedule[1].at.0 - p.schedule[0].at.0) as f64 / SEC;
    let c = s.consumers.iter().find(|c| c.id == "fulfilment").unwrap();
    let mu = 1.0 / (c.service_time.mean_ns() / SEC);
    let cap = s.queues[0].capacity.unwrap() as f64;
    (p.rate, p.schedule[0].rate, spike_s, c.concurrency, mu, cap)
}

#[test]
fn a_flash_sale_overflows_a_rejecting_queue_which_then_drains_at_c_mu_minus_lambda() {
    let file = "flash-sale.json";
    let s = load(file);
    let (base, peak, spike_s, c, mu, cap) = flash_parameters(&s);
    // The backlog grows at λ − cμ during the spike; what does not fit is rejected.
    let rejected_theory = (peak - f64::from(c) * mu) * spike_s - cap;
    let mut sim = sim(file);
    let spike_end_s = s.producers[0].schedule[1].at.0 as f64 / SEC;
    let r = at(&mut sim, spike_end_s);
    assert_within(
        "orders rejected by the full queue",
        node(&r, "fulfilment-q").rejected as f64,
        rejected_theory,
        0.05,
    );
    let backlog = lag(&r, "fulfilment-q") as f64;
    assert!(
        backlog > 0.95 * cap,
        "the queue is full when the spike ends"
    );
    let theory = drain_time_s(backlog, base, mu, c).unwrap().expect("drains");
    let measured = seconds_until_drained(&mut sim, "fulfilment-q", spike_end_s, 0.5, u64::from(c));
    assert_within("drain time B/(cμ − λ)", measured, theory, 0.05);
    sim.run_to_end();
    let end = sim.results();
    // The confirmation function is invoked asynchronously: Lambda's queue takes the spike.
    // It grows at λ − cμ = 1,000 − 50 × 5 = 750/s for 60 s, and the last order of the spike
    // waits behind the 45,000 in it: 45,000 / 250 = 180 s.
    let email_fn = s
        .consumers
        .iter()
        .find(|c| c.id == "confirmation-email")
        .unwrap();
    let email_mu = f64::from(email_fn.concurrency) / (email_fn.service_time.mean_ns() / SEC);
    let email = node(&end, "confirmation-email");
    assert!(
        email.throttled > 0,
        "the spike exceeds the function's concurrency"
    );
    let a = email
        .asynchronous
        .as_ref()
        .expect("an asynchronous function");
    let depth = (peak - email_mu) * spike_s;
    assert_within(
        "Lambda's queue at the end of the spike",
        a.queue_depth_max as f64,
        depth,
        0.05,
    );
    assert_within(
        "the oldest event's wait",
        a.age_max_s,
        depth / email_mu,
        0.05,
    );
    assert_eq!(
        node(&end, "orders-bus").retried,
        0,
        "EventBridge's delivery to Lambda's queue always succeeds"
    );
    assert_eq!(email.dead_lettered, 0, "nothing waits 6 hours");
    assert_eq!(node(&end, "orders-bus").dead_lettered, 0);
}

#[test]
fn a_blocking_queue_pushes_back_on_the_producer_instead_of_rejecting() {
    let file = "flash-sale-block.json";
    let s = load(file);
    let (base, peak, spike_s, c, mu, cap) = flash_parameters(&s);
    let r = full_run(file);
    let q = node(&r, "fulfilment-q");
    assert_eq!(
        q.rejected + r.conservation.rejected,
        0,
        "a blocking queue rejects nothing"
    );
    assert!(
        (cap - f64::from(c)..=cap).contains(&(q.queue_depth.max as f64)),
        "the queue stays full (less the messages in service) while blocked"
    );
    // What the rejecting queue refuses, the blocked producer never sends.
    let duration_s = s.duration.0 as f64 / SEC;
    let offered = base * (duration_s - spike_s) + peak * spike_s;
    let unsent = offered - node(&r, "storefront").completed as f64;
    assert_within(
        "orders the blocked producer never sent",
        unsent,
        (peak - f64::from(c) * mu) * spike_s - cap,
        0.05,
    );
}

// ----- 8. outage and recovery ----------------------------------------------------------------------

#[test]
fn an_outage_dead_letters_old_events_to_a_synchronous_endpoint_while_queues_drain_at_c_mu_minus_lambda()
 {
    let file = "outage-recovery.json";
    let s = load(file);
    let lambda = s.producers[0].rate;
    let worker = s
        .consumers
        .iter()
        .find(|c| c.id == "inventory-worker")
        .unwrap();
    let mu = 1.0 / (worker.service_time.mean_ns() / SEC);
    let fault = s
        .faults
        .iter()
        .find(|f| f.target == "inventory-worker")
        .unwrap();
    let (down_s, up_s) = (fault.from.0 as f64 / SEC, fault.to.0 as f64 / SEC);
    let max_age_s = s.buses[0]
        .rules
        .iter()
        .find(|r| r.id == "reserve-api")
        .unwrap()
        .targets[0]
        .retry
        .as_ref()
        .unwrap()
        .max_age
        .0 as f64
        / SEC;

    let mut sim = sim(file);
    let r = at(&mut sim, up_s);
    let backlog = lag(&r, "inventory-q") as f64;
    assert_within(
        "backlog after the outage (λ × outage)",
        backlog,
        lambda * (up_s - down_s),
        0.05,
    );
    let theory = drain_time_s(backlog, lambda, mu, worker.concurrency)
        .unwrap()
        .expect("drains");
    let measured = seconds_until_drained(
        &mut sim,
        "inventory-q",
        up_s,
        0.5,
        u64::from(worker.concurrency),
    );
    assert_within("recovery time B/(cμ − λ)", measured, theory, 0.05);

    sim.run_to_end();
    let end = sim.results();
    // Every event that arrived more than max_age before the recovery is dead-lettered; no event
    // that arrived before the outage is.
    let expired = reason(node(&end, "orders-bus"), "max_age") as f64;
    assert!(
        expired >= 0.95 * lambda * (up_s - down_s - max_age_s),
        "{expired} dead-lettered for max_age"
    );
    assert!(
        expired <= 1.05 * lambda * (up_s - down_s),
        "{expired} dead-lettered for max_age"
    );
    assert_eq!(
        lag(&end, "inventory-dlq") as f64,
        expired,
        "the DLQ catches them"
    );
    assert_eq!(
        node(&end, "inventory-q").rejected,
        0,
        "the queued path loses nothing"
    );
    assert_eq!(
        node(&end, "inventory-worker").arrived,
        node(&end, "checkout").completed
    );
    // The Lambda target buffers the outage in its asynchronous queue (λ × outage) and loses
    // nothing.
    let lambda_fn = node(&end, "inventory-lambda");
    let slots = u64::from(
        s.consumers
            .iter()
            .find(|c| c.id == "inventory-lambda")
            .unwrap()
            .concurrency,
    );
    assert!(
        lambda_fn.completed + slots >= node(&end, "checkout").completed,
        "all but the invocations running at the end completed"
    );
    assert_eq!(lambda_fn.dead_lettered, 0);
    assert_within(
        "Lambda's queue after the outage",
        lambda_fn.asynchronous.as_ref().unwrap().queue_depth_max as f64,
        lambda * (up_s - down_s),
        0.05,
    );
}

// ----- 9. saga ---------------------------------------------------------------------------------------

#[test]
fn every_failed_payment_emits_a_compensation_that_releases_its_reservation() {
    let file = "saga-compensation.json";
    let s = load(file);
    let r = full_run(file);
    assert_eq!(
        r.conservation.in_flight, 0,
        "the producer stops early so every saga finishes"
    );
    let orders = node(&r, "checkout").completed;
    let payment = node(&r, "payment");
    assert_eq!(node(&r, "inventory").completed, orders);
    assert_eq!(
        payment.arrived, orders,
        "one payment attempt per reservation (failures are handled)"
    );
    assert_eq!(
        node(&r, "inventory-release").completed,
        payment.failed,
        "one compensation per failed payment"
    );
    assert_eq!(node(&r, "shipping").completed, payment.completed);
    assert_eq!(
        node(&r, "shipping").completed + node(&r, "inventory-release").completed,
        orders
    );
    let p = s
        .consumers
        .iter()
        .find(|c| c.id == "payment")
        .unwrap()
        .failure_rate;
    assert_proportion("declined payments", payment.failed, payment.arrived, p);
    assert_eq!(r.conservation.dead_lettered + r.conservation.dropped, 0);
}

// ----- 10. retry storm -----------------------------------------------------------------------------

#[test]
fn retries_without_backoff_burn_their_budget_and_backoff_jitter_and_a_breaker_save_the_goodput() {
    let storm_file = "retry-storm.json";
    let s = load(storm_file);
    let lambda = s.producers[0].rate;
    let fault = &s.faults[0];
    let (from_s, to_s) = (fault.from.0 as f64 / SEC, fault.to.0 as f64 / SEC);
    let retries = s.buses[0].rules[0].targets[0]
        .retry
        .as_ref()
        .unwrap()
        .attempts;

    // During the slowdown nearly every attempt fails, so each order makes close to the maximum
    // r + 1 attempts: between the amplification at p = 0.9 and at p = 1.
    let mut sim = sim(storm_file);
    let a = at(&mut sim, from_s + 5.0);
    let b = at(&mut sim, to_s);
    let attempts = |r: &Results| node(r, "pricing").arrived + node(r, "pricing").throttled;
    let orders = (node(&b, "orders-bus").completed - node(&a, "orders-bus").completed) as f64;
    let amplification = (attempts(&b) - attempts(&a)) as f64 / orders;
    assert!(
        (retry_amplification(0.9, retries).unwrap()..=f64::from(retries) + 1.0)
            .contains(&amplification),
        "attempts per order during the slowdown: {amplification}"
    );

    let storm = full_run(storm_file);
    let fixed = full_run("retry-storm-fixed.json");
    let fault_orders = lambda * (to_s - from_s);
    let lost = node(&storm, "orders-bus").dead_lettered as f64;
    assert!(
        lost >= 0.8 * fault_orders,
        "without backoff the slowdown's orders are lost: {lost}"
    );
    assert!((node(&fixed, "orders-bus").dead_lettered as f64) <= 0.02 * fault_orders);
    let (g_storm, g_fixed) = (
        node(&storm, "pricing").goodput.unwrap(),
        node(&fixed, "pricing").goodput.unwrap(),
    );
    assert!(
        g_fixed > g_storm,
        "goodput with backoff {g_fixed} > without {g_storm}"
    );
    assert!(
        g_fixed >= 0.98 * lambda,
        "with backoff nearly every order completes: {g_fixed}"
    );
    assert!(
        node(&fixed, "pricing").circuit_breaker_transitions > 0,
        "the breaker opened"
    );
}

// ----- 11. feedback loop ---------------------------------------------------------------------------

#[test]
fn the_loop_guard_stops_a_runaway_loop_and_the_fixed_rule_runs_to_the_end() {
    let r = full_run("feedback-loop.json");
    let stopped = r
        .engine
        .stopped
        .as_deref()
        .expect("the loop guard stopped the run");
    assert!(
        stopped.contains("loop guard") && stopped.contains("order-router"),
        "{stopped}"
    );
    assert!(r.engine.simulated_s < r.duration_s);
    assert!(r.conservation.produced > 100_000);

    let fixed = full_run("feedback-loop-fixed.json");
    assert!(fixed.engine.stopped.is_none());
    assert_eq!(fixed.engine.simulated_s, fixed.duration_s, "ran to the end");
    let router = node(&fixed, "order-router");
    assert_eq!(
        router.emitted,
        2 * router.completed,
        "each parent order makes exactly two children"
    );
    assert_eq!(
        fixed.conservation.produced,
        node(&fixed, "trading-desk").completed + router.emitted
    );
    assert_eq!(
        router.arrived,
        node(&fixed, "trading-desk").completed,
        "the router sees only parent orders"
    );
}

// ----- 12. capacity planning -----------------------------------------------------------------------

#[test]
fn fifteen_handlers_run_at_two_thirds_utilization_as_erlang_c_and_the_recommendation_say() {
    let file = "capacity-planning.json";
    let s = load(file);
    let r = full_run(file);
    let lambda = s.producers[0].rate;
    let handlers = &s.consumers[0];
    let mu = 1.0 / (handlers.service_time.mean_ns() / SEC);
    assert_eq!(
        servers_for_utilization(lambda, mu, 0.67).unwrap(),
        handlers.concurrency
    );
    let n = node(&r, "handlers");
    let theory = mmc(lambda, mu, handlers.concurrency).unwrap();
    assert_within("utilization", n.utilization, theory.rho, 0.02);
    assert_within(
        "L (Erlang C)",
        n.mean_number_in_system,
        theory.l.unwrap(),
        0.03,
    );
    assert_within(
        "Little's law",
        n.mean_number_in_system,
        n.littles_law_lambda_w,
        0.01,
    );
    let cap = capacity(&s, &r);
    let advice = cap
        .get("handlers")
        .expect("capacity figures for the handlers");
    assert_eq!(
        advice.recommendation.concurrency_for_utilization,
        Some(15),
        "the analysis recommends 15 handlers"
    );
}

// ----- 13. choreography versus orchestration --------------------------------------------------------

fn consumer<'a>(s: &'a Scenario, id: &str) -> &'a eventflow::model::Consumer {
    s.consumers
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no consumer {id}"))
}

/// A consumer's mean service time, seconds.
fn service_s(s: &Scenario, id: &str) -> f64 {
    consumer(s, id).service_time.mean_ns() / SEC
}

/// The run of bundled `file` after `edit` changes its JSON: a lesson's "Try this".
fn variant(file: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Results {
    let text = std::fs::read_to_string(scenarios_dir().join(file)).expect("readable");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    edit(&mut v);
    let s = match eventflow::scenario::parse(&v.to_string(), file) {
        Ok(l) => l.scenario,
        Err(e) => panic!("{file} edited: {e}"),
    };
    eventflow::sim::run(&s, &RunOptions::default()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn machine<'a>(r: &'a Results, id: &str) -> &'a eventflow::sim::MachineFigures {
    node(r, id)
        .state_machine
        .as_ref()
        .unwrap_or_else(|| panic!("{id} has no state-machine figures"))
}

fn state_figures(m: &eventflow::sim::MachineFigures, name: &str) -> (u64, u64, u64) {
    let s = m
        .states
        .iter()
        .find(|s| s.state == name)
        .unwrap_or_else(|| panic!("no state {name}"));
    (s.entries, s.failures, s.retries)
}

#[test]
fn the_choreographed_saga_compensates_one_payment_failure_in_p_at_the_sum_of_its_service_times() {
    let file = "saga-choreography.json";
    let s = load(file);
    let r = full_run(file);
    assert_eq!(r.conservation.in_flight, 0, "every saga ends in the run");
    assert_eq!(r.conservation.dead_lettered + r.conservation.dropped, 0);
    let orders = node(&r, "checkout").completed;
    assert!(orders > 15_000, "{orders}");
    let payment = node(&r, "payment");
    let (shipped, released) = (
        node(&r, "shipping").completed,
        node(&r, "inventory-release").completed,
    );
    // A handled failure is not retried: one payment attempt per order, one compensation per
    // failed attempt, and every order ends shipped or released.
    assert_eq!(payment.arrived, orders);
    assert_eq!(released, payment.failed);
    assert_eq!(shipped + released, orders);
    let p = consumer(&s, "payment").failure_rate;
    assert_proportion("compensated orders", released, orders, p);
    // No hop latency and no waiting for a slot: an order's time is its path's service times.
    let e2e = &r.end_to_end.latency_s;
    assert_eq!(e2e.count, orders, "each order ends once");
    let expected = service_s(&s, "inventory")
        + service_s(&s, "payment")
        + (shipped as f64 * service_s(&s, "shipping")
            + released as f64 * service_s(&s, "inventory-release"))
            / orders as f64;
    assert_within("mean end-to-end time", e2e.mean_s, expected, 0.01);
}

#[test]
fn the_orchestrated_saga_retries_p_into_p_to_the_fourth_compensations_and_pays_for_it_in_waits() {
    let file = "saga-orchestration.json";
    let s = load(file);
    let r = full_run(file);
    assert_eq!(
        r.conservation.in_flight, 0,
        "every execution ends in the run"
    );
    let orders = node(&r, "checkout").completed;
    let m = machine(&r, "order-saga");
    assert_eq!(m.started, orders);
    assert_eq!((m.running, m.timed_out), (0, 0));
    assert_eq!(m.succeeded + m.failed, orders);

    let p = consumer(&s, "payment").failure_rate;
    let retry = &s.state_machines[0].definition["States"]["Charge"]["Retry"][0];
    let max_attempts = retry["MaxAttempts"].as_u64().unwrap() as i32;
    let interval_s = retry["IntervalSeconds"].as_f64().unwrap();
    let backoff = retry["BackoffRate"].as_f64().unwrap();
    assert_eq!(max_attempts, 3);

    // Compensated only when the first attempt and all three retries fail: p⁴.
    let (entries, failures, retries) = state_figures(m, "Charge");
    assert_eq!(entries, orders);
    assert_proportion(
        "compensated executions",
        m.compensated,
        orders,
        p.powi(max_attempts + 1),
    );
    assert_eq!(failures, m.compensated);
    assert_eq!(state_figures(m, "Release").0, m.compensated);
    assert_eq!(state_figures(m, "PaymentFailed").0, m.compensated);
    assert_eq!(m.failed, m.compensated, "only a compensated saga fails");
    assert_eq!(state_figures(m, "Ship").0, orders - m.compensated);

    // Retries per order: k with probability p^k (1 − p) below the limit, p³ at it.
    let dist: Vec<(f64, f64)> = (0..=max_attempts)
        .map(|k| {
            let pk = p.powi(k);
            (
                f64::from(k),
                if k < max_attempts { pk * (1.0 - p) } else { pk },
            )
        })
        .collect();
    let mean: f64 = dist.iter().map(|(k, q)| k * q).sum();
    let var: f64 = dist.iter().map(|(k, q)| k * k * q).sum::<f64>() - mean * mean;
    let per_order = retries as f64 / orders as f64;
    let se = (var / orders as f64).sqrt();
    assert!(
        (per_order - mean).abs() <= 4.0 * se,
        "retries per order {per_order:.4}, theory {mean:.4} ± {:.4}",
        4.0 * se
    );
    // The payment service sees every attempt; its failed counter is attempts, not sagas.
    let payment = node(&r, "payment");
    assert_eq!(payment.arrived, entries + retries);
    assert_eq!(payment.failed, failures + retries);
    assert!(payment.failed > 100 * m.compensated);

    // Latency: the services' times (payment once per attempt) plus the retries' waits,
    // IntervalSeconds × BackoffRate^(j−1) before retry j, reached with probability p^j.
    let wait_s: f64 = (1..=max_attempts)
        .map(|j| p.powi(j) * interval_s * backoff.powi(j - 1))
        .sum();
    assert!((wait_s - (0.2 + 2.0 * 0.04 + 4.0 * 0.008)).abs() < 1e-12);
    let shipped = state_figures(m, "Ship").0 as f64;
    let expected = service_s(&s, "inventory")
        + service_s(&s, "payment") * (1.0 + per_order)
        + (shipped * service_s(&s, "shipping")
            + m.compensated as f64 * service_s(&s, "inventory-release"))
            / orders as f64
        + wait_s;
    assert_within(
        "mean execution time",
        m.execution_time_s.mean_s,
        expected,
        0.03,
    );
    assert!((r.end_to_end.latency_s.mean_s - m.execution_time_s.mean_s).abs() < 1e-9);
    // Against the choreography: the orchestrated saga is slower by the waits and the calls.
    let c = full_run("saga-choreography.json");
    assert!(r.end_to_end.latency_s.mean_s > c.end_to_end.latency_s.mean_s + wait_s * 0.9);
}

#[test]
fn without_retries_the_orchestrated_saga_compensates_and_costs_exactly_what_the_choreography_does()
{
    let o = variant("saga-orchestration.json", |v| {
        v["state_machines"][0]["definition"]["States"]["Charge"]["Retry"][0]["MaxAttempts"] =
            serde_json::json!(0);
    });
    let c = full_run("saga-choreography.json");
    // The same seed and component ids draw the same orders and the same payment failures.
    assert_eq!(
        machine(&o, "order-saga").compensated,
        node(&c, "inventory-release").completed
    );
    assert_eq!(node(&o, "payment").failed, node(&c, "payment").failed);
    assert!(
        (o.end_to_end.latency_s.mean_s - c.end_to_end.latency_s.mean_s).abs() < 1e-9,
        "{} vs {}",
        o.end_to_end.latency_s.mean_s,
        c.end_to_end.latency_s.mean_s
    );
}

#[test]
fn a_bus_latency_costs_the_choreography_three_hops_and_the_orchestration_one() {
    let hop_s = 0.1;
    for (file, hops) in [
        ("saga-choreography.json", 3.0),
        ("saga-orchestration.json", 1.0),
    ] {
        let base = full_run(file);
        let slow = variant(file, |v| {
            v["buses"][0]["latency"] = serde_json::json!({ "constant": "100ms" });
        });
        let grown = slow.end_to_end.latency_s.mean_s - base.end_to_end.latency_s.mean_s;
        assert!(
            (grown - hops * hop_s).abs() < 1e-6,
            "{file}: end to end grew by {grown} s, want {hops} hops of {hop_s} s"
        );
    }
}

// ----- 14. SNS filter policies versus EventBridge rules ---------------------------------------------

const SNS_FILE: &str = "fanout-sns-filters.json";
const EB_FILE: &str = "fanout-eventbridge-rules.json";

/// Copies of the orders `fraud-check` was given: served, or dead-lettered after the retries.
fn fraud_copies(r: &Results) -> u64 {
    node(r, "fraud-check").completed + node(r, "fraud-dlq").arrived
}

#[test]
fn sns_filter_policies_and_eventbridge_rules_give_each_subscriber_the_generators_share() {
    let sns_s = load(SNS_FILE);
    let eb_s = load(EB_FILE);
    let (sns, eb) = (full_run(SNS_FILE), full_run(EB_FILE));
    // The generator: market as SNS attribute (14) or in detail (14b), the same weights; amount
    // uniform on [lo, hi]; fraud-check takes amount ≥ 800.
    let sns_event = &sns_s.producers[0].event;
    let eb_event = &eb_s.producers[0].event;
    assert_eq!(
        sns_event["attributes"]["market"],
        eb_event["detail"]["market"]
    );
    assert_eq!(
        sns_event["detail"]["totalAmount"],
        eb_event["detail"]["totalAmount"]
    );
    let p_eu = sns_event["attributes"]["market"]["$choice"]["EU"]
        .as_f64()
        .unwrap();
    let bounds = &sns_event["detail"]["totalAmount"]["$uniform"];
    let (lo, hi) = (bounds[0].as_f64().unwrap(), bounds[1].as_f64().unwrap());
    let p_high = (hi - 800.0) / (hi - lo);
    let p_fail = consumer(&sns_s, "fraud-check").failure_rate;
    assert_eq!(p_fail, consumer(&eb_s, "fraud-check").failure_rate);

    let orders = node(&sns, "checkout").completed;
    assert_eq!(orders, node(&eb, "checkout").completed, "the same orders");
    for (what, r) in [("SNS", &sns), ("EventBridge", &eb)] {
        assert_eq!(r.conservation.in_flight, 0, "{what}: everything settles");
        assert_eq!(
            r.conservation.unmatched, 0,
            "{what}: audit takes everything"
        );
        assert_eq!(node(r, "audit").completed, orders, "{what}: audit");
        let (eu, global) = (
            node(r, "eu-fulfilment").completed,
            node(r, "global-fulfilment").completed,
        );
        assert_eq!(eu + global, orders, "{what}: no gap, no overlap");
        assert_proportion(&format!("{what}: EU share"), eu, orders, p_eu);
        let fraud = fraud_copies(r);
        assert_proportion(&format!("{what}: high-value share"), fraud, orders, p_high);
        // Three retries after the first attempt: a copy is dead-lettered in p⁴.
        assert_proportion(
            &format!("{what}: dead-lettered copies"),
            node(r, "fraud-dlq").arrived,
            fraud,
            p_fail.powi(4),
        );
    }
    // The same orders meet the same conditions: every subscriber's count is identical.
    for id in ["audit", "eu-fulfilment", "global-fulfilment"] {
        assert_eq!(node(&sns, id).completed, node(&eb, id).completed, "{id}");
    }
    assert_eq!(fraud_copies(&sns), fraud_copies(&eb));
}

#[test]
fn sns_retries_an_http_endpoint_20_s_apart_where_eventbridge_backs_off_from_1_s_with_jitter() {
    let s = load(SNS_FILE);
    let (sns, eb) = (full_run(SNS_FILE), full_run(EB_FILE));
    let p = consumer(&s, "fraud-check").failure_rate;
    // SNS's default HTTP/S delivery policy: 3 retries, 20 s apart. A copy served at the fourth
    // attempt (p³(1 − p) of them, some dozens) waited 60 s; none waited longer.
    let max_sns = sns.end_to_end.latency_s.max_s;
    assert!((60.0..65.0).contains(&max_sns), "{max_sns}");
    // EventBridge's jittered backoff from 1 s doubling: at most 1 + 2 + 4 s of waits.
    let max_eb = eb.end_to_end.latency_s.max_s;
    assert!(max_eb < 12.0, "{max_eb}");
    // The means: SNS's waits are exact (20 s per retry of a copy that was served); the
    // EventBridge waits average 0.5, 1 and 2 s, so a served copy waits on average
    // (1 − p)(0.5 p + 1.5 p² + 3.5 p³) / (1 − p⁴).
    let retried = node(&sns, "orders-topic").retried;
    let served_retries = retried - 3 * node(&sns, "fraud-dlq").arrived;
    let sns_wait_total = 20.0 * served_retries as f64;
    let eb_served = node(&eb, "fraud-check").completed as f64;
    let eb_wait = (1.0 - p) * (0.5 * p + 1.5 * p * p + 3.5 * p.powi(3)) / (1.0 - p.powi(4));
    // (Each served copy ends a chain once; the dead-lettered copies record no end.)
    let n_sns = sns.end_to_end.latency_s.count as f64;
    let n_eb = eb.end_to_end.latency_s.count as f64;
    assert_eq!(n_sns as u64, sns.conservation.completed);
    let expected = sns_wait_total / n_sns - eb_served * eb_wait / n_eb;
    let diff = sns.end_to_end.latency_s.mean_s - eb.end_to_end.latency_s.mean_s;
    assert_within("SNS minus EventBridge mean latency", diff, expected, 0.03);
}

#[test]
fn an_sns_policy_sees_only_its_scope() {
    // 14's "Try this": market travels as an attribute, so a body-scoped policy never sees it.
    let r = variant(SNS_FILE, |v| {
        v["topics"][0]["subscriptions"][1]["filter_scope"] = serde_json::json!("body");
    });
    assert_eq!(node(&r, "eu-fulfilment").arrived, 0);
    assert_eq!(
        node(&r, "global-fulfilment").completed,
        node(&full_run(SNS_FILE), "global-fulfilment").completed
    );
}
