//! Delivery semantics against theory and the AWS services' documented behaviour: retries and
//! dead-letter queues, SQS redrive, outages, ordering, backpressure, duplicates, throttling,
//! circuit breakers, event chains and the loop guard; plus the conservation balance over
//! randomly generated scenarios.

use eventflow::sim::{Results, RunOptions, Simulation, run};
use proptest::prelude::*;

use crate::support::{balanced, binomial_close, results, scenario};

#[test]
fn target_retries_dead_letter_a_fraction_p_to_the_r_plus_1() {
    // Failure probability p = 0.4, r = 2 retries: p^(r+1) = 0.064 of events dead-lettered;
    // attempts per event (1 − p^(r+1)) / (1 − p) = 1.56.
    let r = results(
        r#"{ "name": "retries", "duration": "2000s", "seed": 3,
        "producers": [ { "id": "p", "to": "bus", "rate": 50, "event": { "source": "s" } } ],
        "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["s"] },
            "targets": [ { "to": "handler", "retry": { "attempts": 2, "max_age": "1h", "backoff": "1ms" }, "dead_letter": "dlq" } ] } ] } ],
        "queues": [ { "id": "dlq" } ],
        "consumers": [ { "id": "handler", "concurrency": 200, "failure_rate": 0.4,
                         "service_time": { "constant": "10ms" } } ] }"#,
    );
    balanced(&r);
    let c = r.conservation;
    let n = c.deliveries - c.in_flight;
    binomial_close(c.dead_lettered, n, 0.064, 4.5);
    let handler = r.nodes.get("handler").unwrap();
    let amp = handler.retry_amplification.unwrap();
    assert!((amp - 1.56).abs() < 0.02, "retry amplification {amp}");
    assert_eq!(handler.throttled, 0);
    let bus = r.nodes.get("bus").unwrap();
    assert_eq!(
        bus.dead_letter_reasons.get("retries_exhausted").copied(),
        Some(bus.dead_lettered)
    );
    assert_eq!(r.nodes.get("dlq").unwrap().arrived, bus.dead_lettered);
}

#[test]
fn without_a_dlq_exhausted_events_are_dropped_and_counted() {
    let r = results(
        r#"{ "name": "drop", "duration": "500s",
        "producers": [ { "id": "p", "to": "bus", "rate": 20 } ],
        "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] },
            "targets": [ { "to": "h", "retry": { "attempts": 0, "max_age": "60s" } } ] } ] } ],
        "consumers": [ { "id": "h", "concurrency": 50, "failure_rate": 0.5, "service_time": { "constant": "1ms" } } ] }"#,
    );
    balanced(&r);
    let c = r.conservation;
    assert_eq!(c.dead_lettered, 0);
    binomial_close(c.dropped, c.deliveries - c.in_flight, 0.5, 4.5);
}

#[test]
fn max_age_expires_slow_retries_into_the_dlq() {
    // Every attempt fails; retries back off from 10 s: the 60 s age limit ends them first.
    let r = results(
        r#"{ "name": "age", "duration": "600s",
        "producers": [ { "id": "p", "to": "bus", "rate": 1 } ],
        "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] },
            "targets": [ { "to": "h", "retry": { "attempts": 185, "max_age": "60s", "backoff": "10s", "jitter": false },
                           "dead_letter": "dlq" } ] } ] } ],
        "queues": [ { "id": "dlq" } ],
        "consumers": [ { "id": "h", "concurrency": 10, "failure_rate": 1, "service_time": { "constant": "1ms" } } ] }"#,
    );
    balanced(&r);
    let bus = r.nodes.get("bus").unwrap();
    assert!(bus.dead_lettered > 400, "{bus:?}");
    assert_eq!(
        bus.dead_letter_reasons.get("max_age").copied(),
        Some(bus.dead_lettered)
    );
    // Backoff 10, 20, 40 s: attempts at 0, 10, 30, 70 s → the fourth is past 60 s.
    let h = r.nodes.get("h").unwrap();
    assert!((h.retry_amplification.unwrap() - 3.0).abs() < 0.05, "{h:?}");
}

#[test]
fn sqs_redrive_moves_a_message_after_max_receives() {
    // Each receive fails with p = 0.5; max_receives = 3: p³ = 0.125 reach the DLQ.
    let r = results(
        r#"{ "name": "redrive", "duration": "3000s", "seed": 5,
        "producers": [ { "id": "p", "to": "q", "rate": 20 } ],
        "queues": [ { "id": "q", "visibility_timeout": "2s", "max_receives": 3, "dead_letter": "dlq" }, { "id": "dlq" } ],
        "consumers": [ { "id": "c", "from": "q", "concurrency": 20, "failure_rate": 0.5, "service_time": { "constant": "5ms" } } ] }"#,
    );
    balanced(&r);
    let c = r.conservation;
    binomial_close(c.dead_lettered, c.deliveries - c.in_flight, 0.125, 4.5);
    let q = r.nodes.get("q").unwrap();
    assert_eq!(
        q.dead_letter_reasons.get("max_receives").copied(),
        Some(q.dead_lettered)
    );
    assert!(q.retried > 0);
    // A poison message is received exactly max_receives times.
    let poison = results(
        r#"{ "name": "poison", "duration": "100s",
        "producers": [ { "id": "p", "to": "q", "rate": 1, "limit": 1 } ],
        "queues": [ { "id": "q", "visibility_timeout": "5s", "max_receives": 4, "dead_letter": "dlq" }, { "id": "dlq" } ],
        "consumers": [ { "id": "c", "from": "q", "failure_rate": 1, "service_time": { "constant": "10ms" } } ] }"#,
    );
    let c = poison.nodes.get("c").unwrap();
    assert_eq!(c.failed, 4);
    assert_eq!(poison.nodes.get("dlq").unwrap().lag, Some(1));
    assert_eq!(poison.conservation.dead_lettered, 1);
}

#[test]
fn littles_law_holds_for_the_waiting_line_with_redeliveries() {
    // Failed messages wait out their visibility timeout outside the line and then queue again:
    // Lq (visible messages) = λ · Wq (total time in line per message) must still hold.
    let r = results(
        r#"{ "name": "lq", "duration": "6000s", "warmup": "200s", "seed": 9,
        "producers": [ { "id": "p", "to": "q", "rate": 6 } ],
        "queues": [ { "id": "q", "visibility_timeout": "2s" } ],
        "consumers": [ { "id": "c", "from": "q", "failure_rate": 0.2, "service_time": { "exponential": { "mean": "100ms" } } } ] }"#,
    );
    let c = r.nodes.get("c").unwrap();
    let (lq, lambda_wq) = (c.queue_depth.mean, c.arrival_rate * c.wait_s.mean_s);
    assert!(
        lq > 0.5 && (lq - lambda_wq).abs() / lq < 0.02,
        "Lq {lq} vs λWq {lambda_wq}"
    );
    let (l, lambda_w) = (c.mean_number_in_system, c.littles_law_lambda_w);
    assert!((l - lambda_w).abs() / l < 0.01, "L {l} vs λW {lambda_w}");
}

#[test]
fn an_outage_backlog_grows_at_lambda_and_drains_at_c_mu_minus_lambda() {
    // Even arrivals λ = 10/s, 2 slots of constant 100 ms: cμ = 20/s. Outage 60–120 s.
    let s = scenario(
        r#"{ "name": "outage", "duration": "300s",
        "producers": [ { "id": "p", "to": "q", "rate": 10, "arrivals": "uniform" } ],
        "queues": [ { "id": "q" } ],
        "consumers": [ { "id": "c", "from": "q", "concurrency": 2, "service_time": { "constant": "100ms" } } ],
        "faults": [ { "target": "c", "from": "60s", "to": "120s", "kind": "outage" } ] }"#,
    );
    let mut sim = Simulation::new(&s, &RunOptions::default()).unwrap();
    let backlog_at = |sim: &mut Simulation, t_s: u64| {
        sim.advance_to(t_s * 1_000_000_000);
        sim.summary().nodes.get("q").unwrap().lag.unwrap() as f64
    };
    // Grows at λ − 0 = 10/s: 300 after 30 s, 600 at the end of the outage.
    assert!((backlog_at(&mut sim, 90) - 300.0).abs() <= 2.0);
    assert!((backlog_at(&mut sim, 120) - 600.0).abs() <= 2.0);
    // Drains at cμ − λ = 10/s: 600 / 10 = 60 s, so half is left at 150 s and none at 181 s.
    assert!((backlog_at(&mut sim, 150) - 300.0).abs() <= 3.0);
    assert!(backlog_at(&mut sim, 181) <= 1.0);
}

const ORDERING: &str = r#"{ "name": "ordering", "duration": "600s", "seed": 11,
    "producers": [ { "id": "bank", "to": "bus", "rate": 40, "event": { "source": "bank",
        "detail": { "account": { "$key": { "count": 10, "prefix": "A-" } }, "kind": { "$choice": ["deposit", "withdrawal"] } } } } ],
    "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["bank"] },
        "targets": [ { "to": "std-q" }, { "to": "fifo-q" } ] } ] } ],
    "queues": [ { "id": "std-q" }, { "id": "fifo-q", "type": "fifo", "group_by": "detail.account" } ],
    "consumers": [
        { "id": "std", "from": "std-q", "concurrency": 8, "order_key": "detail.account", "service_time": { "exponential": { "mean": "150ms" } } },
        { "id": "fifo", "from": "fifo-q", "concurrency": 8, "service_time": { "exponential": { "mean": "150ms" } } } ] }"#;

#[test]
fn fifo_keeps_order_per_group_while_standard_reorders() {
    let r = results(ORDERING);
    balanced(&r);
    let (std, fifo) = (r.nodes.get("std").unwrap(), r.nodes.get("fifo").unwrap());
    assert!(std.out_of_order > 0, "a standard queue reorders");
    assert_eq!(fifo.out_of_order, 0, "a FIFO queue never does");
    // FIFO pays for it in waiting (one message in flight per group).
    assert!(fifo.wait_s.mean_s > std.wait_s.mean_s);
}

#[test]
fn a_failing_fifo_message_blocks_its_group() {
    // One poison message in group A-1 blocks A-1 until it is dead-lettered; other groups flow.
    let r = results(
        r#"{ "name": "hol", "duration": "120s",
        "producers": [ { "id": "p", "to": "q", "rate": 10, "arrivals": "uniform",
            "event": { "detail": { "g": { "$choice": ["A-1", "A-2"] }, "n": { "$seq": "" } } } } ],
        "queues": [ { "id": "q", "type": "fifo", "group_by": "detail.g", "visibility_timeout": "10s", "max_receives": 3, "dead_letter": "dlq" },
                    { "id": "dlq", "type": "fifo" } ],
        "consumers": [ { "id": "c", "from": "q", "concurrency": 4, "service_time": { "constant": "10ms" },
                         "fail_when": { "detail": { "n": ["5"] } } } ] }"#,
    );
    balanced(&r);
    let c = r.nodes.get("c").unwrap();
    assert_eq!(c.failed, 3);
    assert_eq!(r.conservation.dead_lettered, 1);
    // The blocked group's messages waited about 3 × 10 s of visibility timeouts: SQS moves the
    // poison message to the DLQ at the receive after its third failure, once its last
    // visibility timeout has run out, and the group stays blocked until then.
    assert!(
        c.wait_s.max_s > 29.0 && c.wait_s.max_s < 31.0,
        "{:?}",
        c.wait_s
    );
    assert_eq!(c.out_of_order, 0);
}

const OVERLOAD: &str = r#"{ "name": "overload", "duration": "1000s", "warmup": "100s",
    "producers": [ { "id": "p", "to": "q", "rate": 20 } ],
    "queues": [ { "id": "q", "capacity": 10, "when_full": "WHEN" } ],
    "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "100ms" } } ] }"#;

#[test]
fn reject_drops_the_excess_and_block_slows_the_producer() {
    // λ = 20/s against μ = 10/s with room for 10.
    let rej = results(&OVERLOAD.replace("WHEN", "reject"));
    balanced(&rej);
    let (p, q, c) = (
        rej.nodes.get("p").unwrap(),
        rej.nodes.get("q").unwrap(),
        rej.nodes.get("c").unwrap(),
    );
    assert!((c.throughput - 10.0).abs() < 0.1, "{}", c.throughput);
    assert!((p.throughput - 20.0).abs() < 0.5);
    assert!(
        (q.rejected as f64 / 900.0 - 10.0).abs() < 0.5,
        "{} rejected",
        q.rejected
    );
    assert!(q.queue_depth.max <= 10);

    let blk = results(&OVERLOAD.replace("WHEN", "block"));
    balanced(&blk);
    let (p, q, c) = (
        blk.nodes.get("p").unwrap(),
        blk.nodes.get("q").unwrap(),
        blk.nodes.get("c").unwrap(),
    );
    assert_eq!(q.rejected, 0);
    assert!(
        (p.throughput - 10.0).abs() < 0.1,
        "the producer is slowed to the consumer's rate: {}",
        p.throughput
    );
    assert!((c.throughput - 10.0).abs() < 0.1);
}

#[test]
fn a_rule_target_facing_a_full_blocking_queue_retries_instead_of_waiting() {
    // EventBridge cannot block: the delivery fails and the target's retry policy takes over.
    let r = results(
        r#"{ "name": "bus-block", "duration": "300s",
        "producers": [ { "id": "p", "to": "bus", "rate": 20 } ],
        "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] },
            "targets": [ { "to": "q", "retry": { "attempts": 2, "max_age": "60s", "backoff": "100ms" }, "dead_letter": "dlq" } ] } ] } ],
        "queues": [ { "id": "q", "capacity": 5, "when_full": "block" }, { "id": "dlq" } ],
        "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "100ms" } } ] }"#,
    );
    balanced(&r);
    let q = r.nodes.get("q").unwrap();
    assert!(q.throttled > 0 && q.rejected == 0);
    assert!(q.queue_depth.max <= 5);
    let c = r.nodes.get("c").unwrap();
    assert!((c.throughput - 10.0).abs() < 0.2, "{}", c.throughput);
    // About half the offered 20/s cannot get in and ends in the DLQ after its retries.
    assert!(r.conservation.dead_lettered > 2000, "{:?}", r.conservation);
}

#[test]
fn duplicates_are_skipped_by_idempotent_consumers_and_processed_twice_otherwise() {
    let text = r#"{ "name": "dups", "duration": "1000s",
        "producers": [ { "id": "p", "to": "q", "rate": 20 } ],
        "queues": [ { "id": "q", "duplicate_rate": 0.1 } ],
        "consumers": [ { "id": "c", "from": "q", "concurrency": 4, "idempotent": IDEM, "service_time": { "constant": "10ms" } } ] }"#;
    let idem = results(&text.replace("IDEM", "true"));
    let plain = results(&text.replace("IDEM", "false"));
    for r in [&idem, &plain] {
        balanced(r);
    }
    let (a, b) = (idem.nodes.get("c").unwrap(), plain.nodes.get("c").unwrap());
    let produced = idem.nodes.get("p").unwrap().completed;
    binomial_close(idem.nodes.get("q").unwrap().duplicates, produced, 0.1, 4.5);
    // Idempotent: each event processed once, duplicates seen and skipped.
    assert!(a.duplicates > 0);
    assert!(
        a.completed <= produced && a.completed + 5 >= produced,
        "{} vs {produced}",
        a.completed
    );
    // Not idempotent: duplicates processed too.
    assert!(b.duplicates > 0);
    assert!(b.completed > produced + produced / 20);
}

#[test]
fn a_handler_slower_than_the_visibility_timeout_gets_the_message_twice() {
    // Handlers take 1.5 s against a 1 s visibility timeout: at 1 s each message becomes
    // visible again and a free slot receives it; the first handler finishes (and deletes it)
    // at 1.5 s, before the copy's own timeout, so each message is processed exactly twice.
    let text = r#"{ "name": "slow", "duration": "600s", "seed": 4,
        "producers": [ { "id": "p", "to": "q", "rate": 1, "arrivals": "uniform" } ],
        "queues": [ { "id": "q", "visibility_timeout": "1s" } ],
        "consumers": [ { "id": "c", "from": "q", "concurrency": 4, "idempotent": IDEM, "service_time": { "constant": "1500ms" } } ] }"#;
    let plain = results(&text.replace("IDEM", "false"));
    balanced(&plain);
    let (p, q, c) = (
        plain.nodes.get("p").unwrap(),
        plain.nodes.get("q").unwrap(),
        plain.nodes.get("c").unwrap(),
    );
    // Messages of the last few seconds are still in flight at the end: a tolerance of 6.
    let n = p.completed;
    assert!(
        q.retried + 6 >= n && q.retried <= n,
        "{} redeliveries for {n} messages",
        q.retried
    );
    assert!(
        c.completed + 6 >= 2 * n && c.completed <= 2 * n,
        "{} completions for {n}",
        c.completed
    );
    assert!(c.duplicates + 6 >= n, "{}", c.duplicates);
    // An idempotent handler still receives the copy but does the work once.
    let idem = results(&text.replace("IDEM", "true"));
    balanced(&idem);
    let c = idem.nodes.get("c").unwrap();
    assert!(
        c.completed <= n && c.completed + 6 >= n,
        "{} for {n}",
        c.completed
    );
    assert!(c.duplicates + 6 >= n);
    // A handler faster than the timeout never sees a copy.
    let fast = results(&text.replace("IDEM", "false").replace("1500ms", "900ms"));
    assert_eq!(fast.nodes.get("q").unwrap().retried, 0);
    assert_eq!(fast.nodes.get("c").unwrap().duplicates, 0);
}

#[test]
fn direct_invocations_beyond_concurrency_are_throttled_and_retried() {
    // A Lambda-like consumer with 2 slots of 1 s against 5 events/s: throttles, retried by the
    // target's policy; with no retries left the events reach the DLQ as throttled.
    let r = results(
        r#"{ "name": "throttle", "duration": "300s",
        "producers": [ { "id": "p", "to": "bus", "rate": 5 } ],
        "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] },
            "targets": [ { "to": "fn", "retry": { "attempts": 3, "max_age": "60s", "backoff": "200ms" }, "dead_letter": "dlq" } ] } ] } ],
        "queues": [ { "id": "dlq" } ],
        "consumers": [ { "id": "fn", "concurrency": 2, "service_time": { "constant": "1s" } } ] }"#,
    );
    balanced(&r);
    let f = r.nodes.get("fn").unwrap();
    assert!(f.throttled > 0);
    // Throughput is capped at c / S = 2 per second and the slots stay nearly always busy.
    assert!(f.throughput <= 2.0 + 0.01, "{}", f.throughput);
    assert!(f.utilization > 0.85, "{}", f.utilization);
    assert!(r.conservation.dead_lettered > 0);
}

#[test]
fn a_circuit_breaker_opens_under_errors_and_closes_after() {
    let r = results(
        r#"{ "name": "breaker", "duration": "300s",
        "producers": [ { "id": "p", "to": "q", "rate": 10 } ],
        "queues": [ { "id": "q", "visibility_timeout": "1s" } ],
        "consumers": [ { "id": "c", "from": "q", "concurrency": 2, "service_time": { "constant": "20ms" },
                         "circuit_breaker": { "failures": 5, "cooldown": "10s" } } ],
        "faults": [ { "target": "c", "from": "100s", "to": "150s", "kind": "errors", "rate": 1 } ] }"#,
    );
    balanced(&r);
    let c = r.nodes.get("c").unwrap();
    // Closed → open → half-open → open … → half-open → closed: at least three changes.
    assert!(c.circuit_breaker_transitions >= 3, "{c:?}");
    // While open it does not hammer the dependency: far fewer failures than 50 s × 10/s.
    assert!(c.failed < 150, "{} failures", c.failed);
    assert!(
        r.nodes.get("q").unwrap().lag.unwrap() < 5,
        "the backlog drains after recovery"
    );
}

#[test]
fn a_handler_timeout_fails_slow_attempts() {
    let r = results(
        r#"{ "name": "timeout", "duration": "200s",
        "producers": [ { "id": "p", "to": "q", "rate": 5 } ],
        "queues": [ { "id": "q", "visibility_timeout": "1s", "max_receives": 1, "dead_letter": "dlq" }, { "id": "dlq" } ],
        "consumers": [ { "id": "c", "from": "q", "concurrency": 10, "timeout": "100ms", "service_time": { "exponential": { "mean": "100ms" } } } ] }"#,
    );
    balanced(&r);
    let c = r.nodes.get("c").unwrap();
    // P(S > timeout) = e^-1 for exponential service with mean = timeout.
    binomial_close(c.failed, c.failed + c.completed, (-1.0f64).exp(), 4.5);
    assert!(c.latency_s.max_s <= 0.1 + 1e-9);
}

#[test]
fn emits_chain_events_and_copy_fields() {
    let r = results(
        r#"{ "name": "saga", "duration": "200s", "seed": 2,
        "producers": [ { "id": "shop", "to": "bus", "rate": 10,
            "event": { "source": "shop", "detail-type": "OrderPlaced", "detail": { "orderId": { "$seq": "O-" } } } } ],
        "buses": [ { "id": "bus", "rules": [
            { "id": "orders", "pattern": { "detail-type": ["OrderPlaced"] }, "targets": [ { "to": "inv-q" } ] },
            { "id": "reserved", "pattern": { "detail-type": ["InventoryReserved"], "detail": { "orderId": [ { "prefix": "O-" } ] } }, "targets": [ { "to": "pay-q" } ] },
            { "id": "failed", "pattern": { "detail-type": ["PaymentFailed"] }, "targets": [ { "to": "release-q" } ] } ] } ],
        "queues": [ { "id": "inv-q" }, { "id": "pay-q" }, { "id": "release-q" } ],
        "consumers": [
            { "id": "inventory", "from": "inv-q", "concurrency": 4, "service_time": { "constant": "10ms" },
              "emits": [ { "on": "success", "to": "bus", "event": { "source": "inventory", "detail-type": "InventoryReserved", "detail": { "orderId": { "$from": "detail.orderId" } } } } ] },
            { "id": "payment", "from": "pay-q", "concurrency": 4, "failure_rate": 0.2, "service_time": { "constant": "10ms" },
              "emits": [ { "on": "failure", "to": "bus", "event": { "source": "payment", "detail-type": "PaymentFailed", "detail": { "orderId": { "$from": "detail.orderId" } } } } ] },
            { "id": "release", "from": "release-q", "service_time": { "constant": "5ms" } } ] }"#,
    );
    balanced(&r);
    let (inv, pay, rel) = (
        r.nodes.get("inventory").unwrap(),
        r.nodes.get("payment").unwrap(),
        r.nodes.get("release").unwrap(),
    );
    // Every reservation reached payment (the $from-copied orderId matched the prefix rule).
    assert!(
        inv.emitted > 1900 && pay.arrived + 5 >= inv.emitted,
        "{} vs {}",
        inv.emitted,
        pay.arrived
    );
    // Every payment failure was compensated.
    assert_eq!(pay.emitted, pay.failed);
    assert!(rel.arrived + 2 >= pay.failed && pay.failed > 0);
    binomial_close(pay.failed, pay.arrived, 0.2, 4.5);
}

#[test]
fn the_loop_guard_stops_a_runaway_cycle_and_names_it() {
    let r = results(
        r#"{ "name": "loop", "duration": "1h", "settings": { "max_events": 20000 },
        "producers": [ { "id": "p", "to": "bus", "rate": 1, "limit": 1, "event": { "source": "trade" } } ],
        "buses": [ { "id": "bus", "rules": [ { "id": "trades", "pattern": { "source": ["trade"] }, "targets": [ { "to": "trader-q" } ] } ] } ],
        "queues": [ { "id": "trader-q" } ],
        "consumers": [ { "id": "trader", "from": "trader-q", "concurrency": 10, "service_time": { "constant": "1ms" },
            "emits": [ { "to": "bus", "event": { "source": "trade" } }, { "to": "bus", "event": { "source": "trade" } } ] } ] }"#,
    );
    balanced(&r);
    let stop = r.engine.stopped.expect("the loop guard stopped the run");
    assert!(
        stop.contains("loop guard") && stop.contains("trader") && stop.contains("bus"),
        "{stop}"
    );
    assert!(r.engine.simulated_s < 3600.0);
}

#[test]
fn streams_keep_partition_order_and_idle_extra_instances() {
    let text = r#"{ "name": "stream", "duration": "300s", "seed": 4,
        "producers": [ { "id": "p", "to": "s", "rate": 30,
            "event": { "detail": { "customer": { "$key": { "count": 1000, "skew": 1.3, "prefix": "C-" } } } } } ],
        "streams": [ { "id": "s", "partitions": 4, "key": "detail.customer" } ],
        "consumers": [ { "id": "c", "from": "s", "concurrency": CONC, "service_time": { "exponential": { "mean": "100ms" } } } ] }"#;
    let four = results(&text.replace("CONC", "4"));
    let eight = results(&text.replace("CONC", "8"));
    balanced(&four);
    let (a, b) = (four.nodes.get("c").unwrap(), eight.nodes.get("c").unwrap());
    assert_eq!(a.out_of_order, 0, "each partition is read in order");
    // Instances beyond the partition count sit idle: the same run either way.
    assert_eq!(a.completed, b.completed);
    assert_eq!(a.utilization * 4.0, b.utilization * 8.0);
    // The hot key's partition (P(top key) = 1/H(1000, 1.3) ≈ 0.27, so that partition gets
    // ≈ 0.27 + 0.73/4 of 30/s ≈ 13.6/s against one instance's 10/s) lags: throughput stays
    // below the offered 30/s while the other three partitions keep up.
    assert!(a.throughput < 28.0, "{}", a.throughput);
    assert!(four.nodes.get("s").unwrap().lag.unwrap() > 100);
}

#[test]
fn a_timeline_redrive_empties_the_dlq_and_a_replay_republishes() {
    let r = results(
        r#"{ "name": "redrive", "duration": "600s",
        "producers": [ { "id": "p", "to": "bus", "rate": 5 } ],
        "buses": [ { "id": "bus", "archive": true, "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] }, "targets": [ { "to": "q" } ] } ] } ],
        "queues": [ { "id": "q", "visibility_timeout": "1s", "max_receives": 2, "dead_letter": "dlq" }, { "id": "dlq" } ],
        "consumers": [ { "id": "c", "from": "q", "concurrency": 4, "service_time": { "constant": "10ms" } } ],
        "faults": [ { "target": "c", "from": "60s", "to": "240s", "kind": "errors", "rate": 1 } ],
        "timeline": [ { "at": "300s", "redrive": "dlq", "to": "q" }, { "at": "400s", "replay": "bus", "from": "0s", "to": "10s" } ] }"#,
    );
    balanced(&r);
    assert_eq!(
        r.nodes.get("dlq").unwrap().lag,
        Some(0),
        "the redrive emptied the DLQ"
    );
    assert!(r.conservation.dead_lettered > 500);
    assert!(r.conservation.replayed >= 30 && r.conservation.replayed <= 80);
    assert_eq!(r.conservation.in_flight, 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Conservation balances exactly and runs are deterministic, whatever the delivery features.
    #[test]
    fn conservation_and_determinism_hold_for_random_scenarios(
        seed in 0u64..1000,
        rate in 1.0f64..60.0,
        fifo in any::<bool>(),
        capacity in prop::option::of(1u64..50),
        block in any::<bool>(),
        failure in 0.0f64..0.6,
        redrive in any::<bool>(),
        dup in 0.0f64..0.2,
        conc in 1u32..6,
        batch in 1u32..4,
        direct_retries in 0u32..4,
        emit in any::<bool>(),
        outage in any::<bool>(),
        timeout in any::<bool>(),
    ) {
        let qtype = if fifo { r#""type": "fifo", "group_by": "detail.k""# } else { r#""type": "standard""# };
        let dup = if fifo { 0.0 } else { dup };
        let cap = capacity.map_or(String::new(), |c| format!(r#", "capacity": {c}, "when_full": "{}""#, if block { "block" } else { "reject" }));
        let redrive_q = if redrive { r#", "max_receives": 2, "dead_letter": "dlq""# } else { "" };
        let dlq_type = if fifo { r#", "type": "fifo""# } else { "" };
        let emits = if emit { r#", "emits": [ { "on": "success", "to": "bus", "probability": 0.3, "event": { "source": "echo", "detail": { "k": { "$from": "detail.k" } } } } ]"# } else { "" };
        let fault = if outage { r#"{ "target": "c", "from": "20s", "to": "40s", "kind": "outage" }"# } else { "" };
        let to = if timeout { r#", "timeout": "80ms""# } else { "" };
        let text = format!(r#"{{ "name": "random", "seed": {seed}, "duration": "90s", "warmup": "5s",
            "producers": [ {{ "id": "p", "to": "bus", "rate": {rate},
                "event": {{ "source": "shop", "detail": {{ "k": {{ "$key": {{ "count": 5 }} }}, "v": {{ "$int": [0, 9] }} }} }} }} ],
            "buses": [ {{ "id": "bus", "rules": [
                {{ "id": "to-queue", "pattern": {{ "detail": {{ "v": [ {{ "numeric": [">=", 3] }} ] }} }}, "targets": [ {{ "to": "q" }} ] }},
                {{ "id": "direct", "pattern": {{ "source": ["shop"] }},
                  "targets": [ {{ "to": "fn", "retry": {{ "attempts": {direct_retries}, "max_age": "60s", "backoff": "100ms" }}, "dead_letter": "dlq2" }} ] }} ] }} ],
            "queues": [ {{ "id": "q", {qtype}, "duplicate_rate": {dup}, "visibility_timeout": "2s"{cap}{redrive_q} }},
                        {{ "id": "dlq"{dlq_type} }}, {{ "id": "dlq2" }} ],
            "consumers": [
                {{ "id": "c", "from": "q", "concurrency": {conc}, "batch_size": {batch}, "failure_rate": {failure},
                   "service_time": {{ "exponential": {{ "mean": "60ms" }} }}{to}{emits} }},
                {{ "id": "fn", "concurrency": 2, "failure_rate": {failure}, "service_time": {{ "constant": "30ms" }} }} ],
            "faults": [ {fault} ] }}"#);
        let text = text.replace(r#""faults": [  ]"#, r#""faults": []"#);
        let s = scenario(&text);
        let a = run(&s, &RunOptions::default()).unwrap();
        let c = a.conservation;
        prop_assert_eq!(c.deliveries, c.completed + c.dead_lettered + c.rejected + c.expired + c.dropped + c.in_flight);
        let b = run(&s, &RunOptions::default()).unwrap();
        let strip = |r: &Results| { let mut v = serde_json::to_value(r).unwrap(); v["engine"]["wall_seconds"] = 0.into(); v.to_string() };
        prop_assert_eq!(strip(&a), strip(&b));
    }
}

/// A `set` entry is checked like the consumer's own `concurrency`: a known consumer, a value in
/// range, and not a stream consumer (one instance per shard).
#[test]
fn a_concurrency_change_names_a_consumer_and_a_value_in_range() {
    use crate::support::{eventflow, scenario_file, stderr, stdout};
    let bad = r#"{ "name": "t", "duration": "60s",
        "producers": [ { "id": "p", "to": "q", "rate": 2 } ],
        "queues": [ { "id": "q" } ],
        "streams": [ { "id": "s", "partitions": 2 } ],
        "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "1s" } },
                       { "id": "r", "from": "s", "service_time": { "constant": "1s" } } ],
        "timeline": [ { "at": "10s", "set": "nobody", "concurrency": 2 },
                      { "at": "10s", "set": "c", "concurrency": 0 },
                      { "at": "10s", "set": "r", "concurrency": 2 } ] }"#;
    let (_dir, path) = scenario_file(bad);
    let o = eventflow(&["check", path.to_str().unwrap()], "");
    let text = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("timeline[0].set"), "{text}");
    assert!(text.contains("timeline[1].concurrency"), "{text}");
    assert!(
        text.contains("timeline[2].set") && text.contains("reads a stream"),
        "{text}"
    );
    let good = r#"{ "name": "t", "duration": "60s",
        "producers": [ { "id": "p", "to": "q", "rate": 2 } ],
        "queues": [ { "id": "q" } ],
        "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "1s" } } ],
        "timeline": [ { "at": "10s", "set": "c", "concurrency": 5 },
                      { "at": "20s", "set": "c", "concurrency": 1 } ] }"#;
    let (_dir, path) = scenario_file(good);
    let o = eventflow(&["check", path.to_str().unwrap()], "");
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}
