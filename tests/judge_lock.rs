//! The lock service's judge on hand-built observation sequences, each written
//! from the check's definition in docs/protocols.md (Kleppmann's fencing,
//! leases on the server's clock): verdicts at the boundaries of every rule,
//! the nodes and times a violation names, availability and the other figures
//! a user reads, coverage, and the records the lock chart draws. Milliseconds
//! throughout; node 0 is the server, 1 the resource, 2, 3 and 4 clients.

mod feed;

use faultline::check::{CheckReport, Verdict};
use faultline::harness::{HumanDuration, Judge};
use faultline::node::NodeId;
use faultline::protocols::lock::{
    Grant, Lock, LockCheck, LockJudge, LockMessage, LockObservation, LockVariant,
};
use faultline::sim::{LocalTime, SimDuration, TraceEvent};
use feed::{ms, setup, Feed};
use std::time::Duration;

const SERVER: NodeId = 0;
const RESOURCE: NodeId = 1;
const A: NodeId = 2;
const B: NodeId = 3;
const C: NodeId = 4;

fn lock(variant: LockVariant) -> Lock {
    Lock {
        variant,
        lease: SimDuration::from_millis(500),
        hold: SimDuration::from_millis(300),
        think: SimDuration::from_millis(200),
        writes: 3,
        work: SimDuration::from_millis(10),
        retry: SimDuration::from_millis(100),
    }
}

fn all_checks() -> Vec<LockCheck> {
    vec![
        LockCheck::MutualExclusion,
        LockCheck::NoStaleWrite,
        LockCheck::Progress(HumanDuration(Duration::from_millis(500))),
        LockCheck::LockContended,
    ]
}

/// A judge of every check (Progress within 500 ms) on five nodes.
fn judge(variant: LockVariant) -> Feed<LockJudge> {
    let setup = setup(5, 10_000, &[], 0, 10, &[false; 5]);
    Feed::new(LockJudge::new(&lock(variant), &all_checks(), &setup), 5)
}

/// The server's observations carry the lease's end, in true time, as the
/// event's deadline (here the server's clock keeps true time).
fn granted(f: &mut Feed<LockJudge>, t: u64, client: NodeId, token: u64, lease_end: u64) {
    let expires = Some(LocalTime::from_nanos(lease_end * 1_000_000));
    let observation = LockObservation::Granted {
        client,
        token,
        expires,
    };
    f.observe_with::<Lock>(t, SERVER, None, Some(ms(lease_end)), &observation);
}

fn renewed(f: &mut Feed<LockJudge>, t: u64, client: NodeId, token: u64, lease_end: u64) {
    let expires = Some(LocalTime::from_nanos(lease_end * 1_000_000));
    let observation = LockObservation::Renewed {
        client,
        token,
        expires,
    };
    f.observe_with::<Lock>(t, SERVER, None, Some(ms(lease_end)), &observation);
}

fn released(f: &mut Feed<LockJudge>, t: u64, client: NodeId, token: u64) {
    f.observe::<Lock>(t, SERVER, &LockObservation::Released { client, token });
}

fn expired(f: &mut Feed<LockJudge>, t: u64, client: NodeId, token: u64) {
    f.observe::<Lock>(t, SERVER, &LockObservation::Expired { client, token });
}

fn holding(f: &mut Feed<LockJudge>, t: u64, client: NodeId, token: u64) {
    let observation = LockObservation::Holding {
        token,
        hold: token,
        request: token,
        until: None,
    };
    f.observe::<Lock>(t, client, &observation);
}

fn not_holding(f: &mut Feed<LockJudge>, t: u64, client: NodeId, token: u64) {
    let observation = LockObservation::NotHolding { token, hold: token };
    f.observe::<Lock>(t, client, &observation);
}

/// Client `client` sends message `id`, a write under `token`.
fn write_sent(f: &mut Feed<LockJudge>, t: u64, client: NodeId, id: u64, token: u64) {
    let message = LockMessage::Write {
        token,
        hold: token,
        seq: 0,
    };
    f.at::<Lock>(
        t,
        TraceEvent::Send {
            node: client,
            to: RESOURCE,
            id,
            message: &message,
        },
    );
}

/// The resource receives message `id`, a write under `token`.
fn write_received(
    f: &mut Feed<LockJudge>,
    t: u64,
    client: NodeId,
    id: u64,
    token: u64,
    accepted: bool,
) {
    let observation = LockObservation::WriteReceived {
        client,
        token,
        hold: token,
        seq: 0,
        accepted,
    };
    f.observe_with::<Lock>(t, RESOURCE, Some(id), None, &observation);
}

fn denied(f: &mut Feed<LockJudge>, t: u64, client: NodeId) {
    let message = LockMessage::Deny { request: 1 };
    f.at::<Lock>(
        t,
        TraceEvent::Send {
            node: SERVER,
            to: client,
            id: 999,
            message: &message,
        },
    );
}

fn crash(f: &mut Feed<LockJudge>, t: u64, node: NodeId) {
    f.at::<Lock>(t, TraceEvent::Crash { node });
}

fn verdict(f: &mut Feed<LockJudge>, end: u64, name: &str) -> CheckReport {
    f.report(end, name)
}

/// A's lease runs out at 500 while A is frozen believing it holds token 1;
/// B gets token 2 and writes; then A's write lands.
fn paused_holder_writes_after_the_next_holder(f: &mut Feed<LockJudge>) {
    granted(f, 0, A, 1, 500);
    holding(f, 10, A, 1);
    expired(f, 500, A, 1);
    granted(f, 500, B, 2, 1000);
    holding(f, 510, B, 2);
    write_sent(f, 515, B, 20, 2);
    write_received(f, 530, B, 20, 2, true);
    write_sent(f, 600, A, 10, 1);
    write_received(f, 610, A, 10, 1, true);
    not_holding(f, 700, A, 1);
}

#[test]
fn an_older_holder_writing_after_an_overlapping_newer_one_fails_mutual_exclusion() {
    let mut f = judge(LockVariant::Lease);
    paused_holder_writes_after_the_next_holder(&mut f);
    let writes: Vec<bool> = f.judge.writes().iter().map(|w| w.unsafe_write).collect();
    assert_eq!(writes, [false, true], "the chart marks A's write unsafe");
    let report = verdict(&mut f, 1000, "MutualExclusion");
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.violations.len(), 1, "{:?}", report.violations);
    let violation = &report.violations[0];
    assert_eq!(violation.time, ms(610));
    assert_eq!(violation.nodes, [A, B]);
    assert!(
        violation.message.contains(
            "from client 2 (token 1, holding since 0.010s) after accepting writes from client 3 (token 2, holding since 0.510s)"
        ),
        "{}",
        violation.message
    );
    assert!(
        report.detail.contains("VIOLATION at 0.610s"),
        "{}",
        report.detail
    );
}

#[test]
fn the_violation_gives_the_end_of_a_holding_that_ended() {
    // B's holding ends at 605, before A's late write lands at 610: they
    // overlapped (510 to 605 inside A's 10 to 700).
    let mut f = judge(LockVariant::Lease);
    granted(&mut f, 0, A, 1, 500);
    holding(&mut f, 10, A, 1);
    expired(&mut f, 500, A, 1);
    granted(&mut f, 500, B, 2, 1000);
    holding(&mut f, 510, B, 2);
    write_sent(&mut f, 515, B, 20, 2);
    write_received(&mut f, 530, B, 20, 2, true);
    write_sent(&mut f, 600, A, 10, 1);
    not_holding(&mut f, 605, B, 2);
    write_received(&mut f, 610, A, 10, 1, true);
    let report = verdict(&mut f, 1000, "MutualExclusion");
    assert_eq!(report.violations.len(), 1);
    assert!(
        report.violations[0]
            .message
            .contains("client 3 (token 2, holding since 0.510s until 0.605s)"),
        "{}",
        report.violations[0].message
    );
}

#[test]
fn a_newer_holder_writing_after_an_older_one_is_succession() {
    // The same overlap, but the old holder's write lands first: the resource
    // saw the writes in token order, which is serial.
    let mut f = judge(LockVariant::LeaseFencing);
    granted(&mut f, 0, A, 1, 500);
    holding(&mut f, 10, A, 1);
    expired(&mut f, 500, A, 1);
    granted(&mut f, 500, B, 2, 1000);
    holding(&mut f, 510, B, 2);
    write_sent(&mut f, 512, A, 10, 1);
    write_sent(&mut f, 515, B, 20, 2);
    write_received(&mut f, 520, A, 10, 1, true);
    write_received(&mut f, 530, B, 20, 2, true);
    let reports = f.reports(1000);
    for report in &reports {
        assert_eq!(
            report.verdict,
            Verdict::Pass,
            "{}: {}",
            report.name,
            report.detail
        );
    }
}

#[test]
fn holdings_that_only_touch_do_not_overlap() {
    // A stops believing at 100, the instant B starts; A's write, sent at 90,
    // lands after B's. Stale (a lower token after a higher one), but not two
    // holders at once.
    let mut f = judge(LockVariant::Lease);
    holding(&mut f, 10, A, 1);
    write_sent(&mut f, 90, A, 10, 1);
    not_holding(&mut f, 100, A, 1);
    holding(&mut f, 100, B, 2);
    write_sent(&mut f, 110, B, 20, 2);
    write_received(&mut f, 150, B, 20, 2, true);
    write_received(&mut f, 160, A, 10, 1, true);
    let reports = f.reports(1000);
    assert_eq!(reports[0].name, "MutualExclusion");
    assert_eq!(reports[0].verdict, Verdict::Pass, "{}", reports[0].detail);
    assert_eq!(reports[1].name, "NoStaleWrite");
    assert_eq!(reports[1].verdict, Verdict::Fail);

    // The other way round: token 2's holder stops at 100, and a delayed grant
    // of token 1 makes A a holder from 100.
    let mut f = judge(LockVariant::Lease);
    holding(&mut f, 10, B, 2);
    write_sent(&mut f, 40, B, 20, 2);
    write_received(&mut f, 50, B, 20, 2, true);
    not_holding(&mut f, 100, B, 2);
    holding(&mut f, 100, A, 1);
    write_sent(&mut f, 140, A, 10, 1);
    write_received(&mut f, 150, A, 10, 1, true);
    let report = verdict(&mut f, 1000, "MutualExclusion");
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
}

#[test]
fn a_crash_ends_the_clients_holding() {
    // A crashes at 100 (its belief goes with its memory); its write sent at 90
    // lands after B's, whose holding began at 110.
    let mut f = judge(LockVariant::Lease);
    holding(&mut f, 10, A, 1);
    write_sent(&mut f, 90, A, 10, 1);
    crash(&mut f, 100, A);
    holding(&mut f, 110, B, 2);
    write_sent(&mut f, 120, B, 20, 2);
    write_received(&mut f, 130, B, 20, 2, true);
    write_received(&mut f, 140, A, 10, 1, true);
    let report = verdict(&mut f, 1000, "MutualExclusion");
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
    let ends: Vec<Option<_>> = f.judge.holdings().map(|h| h.end).collect();
    assert_eq!(ends, [Some(ms(100)), None]);
}

#[test]
fn a_write_sent_under_no_holding_is_counted_in_the_detail() {
    let mut f = judge(LockVariant::LeaseFencing);
    write_sent(&mut f, 10, A, 10, 1);
    write_received(&mut f, 20, A, 10, 1, true);
    write_received(&mut f, 30, A, 11, 1, false);
    write_received(&mut f, 40, A, 12, 1, false);
    let report = verdict(&mut f, 1000, "MutualExclusion");
    assert_eq!(report.verdict, Verdict::Pass);
    assert_eq!(
        report.detail,
        "0 grants, 0 holdings, 1 writes accepted, 2 rejected; 1 accepted write(s) sent under no holding"
    );
}

#[test]
fn the_mutual_exclusion_detail_counts_grants_holdings_and_writes() {
    let mut f = judge(LockVariant::LeaseFencing);
    granted(&mut f, 0, A, 1, 500);
    holding(&mut f, 10, A, 1);
    write_sent(&mut f, 20, A, 10, 1);
    write_received(&mut f, 30, A, 10, 1, true);
    released(&mut f, 100, A, 1);
    let report = verdict(&mut f, 1000, "MutualExclusion");
    assert_eq!(
        report.detail,
        "1 grants, 1 holdings, 1 writes accepted, 0 rejected"
    );
}

#[test]
fn a_lower_token_accepted_after_a_higher_one_is_stale() {
    let mut f = judge(LockVariant::LeaseFencing);
    write_received(&mut f, 10, B, 20, 2, true);
    // The same token again is not stale, nor is a rejected lower one.
    write_received(&mut f, 20, B, 21, 2, true);
    write_received(&mut f, 30, A, 10, 1, false);
    write_received(&mut f, 40, A, 11, 1, true);
    let unsafe_writes: Vec<bool> = f.judge.writes().iter().map(|w| w.unsafe_write).collect();
    assert_eq!(unsafe_writes, [false, false, false, true]);
    let report = verdict(&mut f, 1000, "NoStaleWrite");
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.violations.len(), 1);
    assert_eq!(report.violations[0].time, ms(40));
    assert_eq!(report.violations[0].nodes, [A]);
    assert_eq!(
        report.violations[0].message,
        "the resource accepted token 1 from client 2 after accepting token 2"
    );
    assert!(report
        .detail
        .starts_with("highest token accepted 2; VIOLATION at 0.040s"));
}

/// Token 1 granted to A at 0 with its lease ending at 100 (and token 2 to B
/// at 150), then A's write under token 1 accepted at `write_at`.
fn write_under_a_lease(
    variant: LockVariant,
    end: impl Fn(&mut Feed<LockJudge>),
    write_at: u64,
) -> CheckReport {
    let mut f = judge(variant);
    granted(&mut f, 0, A, 1, 100);
    holding(&mut f, 5, A, 1);
    write_sent(&mut f, 6, A, 10, 1);
    end(&mut f);
    write_received(&mut f, write_at, A, 10, 1, true);
    verdict(&mut f, 1000, "NoStaleWrite")
}

#[test]
fn a_write_before_its_lease_runs_out_is_not_stale() {
    let report = write_under_a_lease(LockVariant::Lease, |_| {}, 99);
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
}

#[test]
fn a_write_at_the_instant_its_lease_runs_out_is_stale_without_fencing() {
    let report = write_under_a_lease(LockVariant::Lease, |_| {}, 100);
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.violations[0].time, ms(100));
    assert_eq!(report.violations[0].nodes, [A]);
    assert_eq!(
        report.violations[0].message,
        "the resource accepted a write from client 2 under token 1, whose lease had run out on the server's clock at 0.100s"
    );
    // NoExpiry has no lease to run out; with fencing, the token rules.
    let report = write_under_a_lease(LockVariant::LeaseFencing, |_| {}, 100);
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
}

#[test]
fn a_lease_released_before_it_ran_out_makes_no_stale_write() {
    let report = write_under_a_lease(LockVariant::Lease, |f| released(f, 50, A, 1), 150);
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
}

#[test]
fn a_lease_released_at_or_after_it_ran_out_or_expired_makes_a_stale_write() {
    let ends: [fn(&mut Feed<LockJudge>); 3] = [
        |f| released(f, 100, A, 1),
        |f| released(f, 120, A, 1),
        |f| expired(f, 100, A, 1),
    ];
    for end in ends {
        let report = write_under_a_lease(LockVariant::Lease, end, 150);
        assert_eq!(report.verdict, Verdict::Fail, "{}", report.detail);
        assert!(report.violations[0].message.ends_with("at 0.100s"));
    }
}

#[test]
fn a_write_is_judged_by_its_own_tokens_lease() {
    // Token 1's lease ran out at 100; token 2's runs to 400.
    let mut f = judge(LockVariant::Lease);
    granted(&mut f, 0, A, 1, 100);
    expired(&mut f, 100, A, 1);
    granted(&mut f, 100, B, 2, 400);
    write_received(&mut f, 200, B, 20, 2, true);
    let report = verdict(&mut f, 1000, "NoStaleWrite");
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
}

#[test]
fn a_renewal_moves_the_lease_end() {
    let mut f = judge(LockVariant::Lease);
    granted(&mut f, 0, A, 1, 100);
    renewed(&mut f, 80, A, 1, 300);
    write_received(&mut f, 200, A, 10, 1, true);
    write_received(&mut f, 300, A, 11, 1, true);
    let report = verdict(&mut f, 1000, "NoStaleWrite");
    assert_eq!(report.violations.len(), 1, "{}", report.detail);
    assert_eq!(report.violations[0].time, ms(300));
    assert!(report.violations[0].message.ends_with("at 0.300s"));
}

#[test]
fn renewals_releases_and_expiries_apply_to_their_own_tokens_grant() {
    // The judge keys grants by token: a renewal, release or expiry of token 2
    // leaves token 1's record alone, even one still open (which the server
    // never leaves, but the judge does not rely on it).
    let mut f = judge(LockVariant::Lease);
    granted(&mut f, 0, A, 1, 1000);
    granted(&mut f, 100, B, 2, 200);
    renewed(&mut f, 150, B, 2, 500);
    write_received(&mut f, 300, B, 20, 2, true);
    released(&mut f, 400, B, 2);
    granted(&mut f, 400, C, 3, 900);
    expired(&mut f, 900, C, 3);
    let grants = f.judge.grants().to_vec();
    assert_eq!(
        grants,
        [
            Grant {
                client: A,
                token: 1,
                start: ms(0),
                end: None,
                expired: false,
                lease_end: Some(ms(1000)),
            },
            Grant {
                client: B,
                token: 2,
                start: ms(100),
                end: Some(ms(400)),
                expired: false,
                lease_end: Some(ms(500)),
            },
            Grant {
                client: C,
                token: 3,
                start: ms(400),
                end: Some(ms(900)),
                expired: true,
                lease_end: Some(ms(900)),
            },
        ]
    );
    let report = verdict(&mut f, 1000, "NoStaleWrite");
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
}

/// A holds token 1 from 0; A crashes at 100, so someone else must get the
/// lock by 600.
fn holder_crashes(f: &mut Feed<LockJudge>) {
    granted(f, 0, A, 1, 300);
    holding(f, 5, A, 1);
    crash(f, 100, A);
}

#[test]
fn a_crashed_holders_lock_granted_to_another_by_the_deadline_is_progress() {
    let mut f = judge(LockVariant::Lease);
    holder_crashes(&mut f);
    denied(&mut f, 200, B);
    expired(&mut f, 300, A, 1);
    // Exactly at the deadline still counts.
    granted(&mut f, 600, B, 2, 900);
    let report = verdict(&mut f, 1000, "Progress");
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
    assert!(
        report
            .detail
            .contains("; holder crash at 0.100s: lock granted again after 500ms"),
        "{}",
        report.detail
    );
    assert!(!report.detail.contains("too close"), "{}", report.detail);
}

#[test]
fn a_crashed_holders_lock_never_granted_again_fails_progress_at_the_deadline() {
    let mut f = judge(LockVariant::NoExpiry);
    holder_crashes(&mut f);
    let report = verdict(&mut f, 1000, "Progress");
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.violations.len(), 1);
    assert_eq!(report.violations[0].time, ms(600));
    assert_eq!(report.violations[0].nodes, [A]);
    assert_eq!(
        report.violations[0].message,
        "client 2 crashed at 0.100s holding the lock, and nobody else got it within 500ms"
    );
}

#[test]
fn a_grant_after_the_deadline_is_too_late() {
    let mut f = judge(LockVariant::Lease);
    holder_crashes(&mut f);
    expired(&mut f, 300, A, 1);
    granted(&mut f, 800, B, 2, 1100);
    let report = verdict(&mut f, 1000, "Progress");
    assert_eq!(report.verdict, Verdict::Fail, "{}", report.detail);
    assert_eq!(report.violations[0].time, ms(600));
}

#[test]
fn a_deadline_at_the_end_of_the_run_is_judged_and_one_past_it_is_not() {
    let mut f = judge(LockVariant::NoExpiry);
    holder_crashes(&mut f);
    let report = verdict(&mut f, 600, "Progress");
    assert_eq!(report.verdict, Verdict::Fail, "{}", report.detail);

    let mut f = judge(LockVariant::NoExpiry);
    holder_crashes(&mut f);
    let report = verdict(&mut f, 599, "Progress");
    assert_eq!(report.verdict, Verdict::Pass);
    assert!(
        report
            .detail
            .contains("; 1 crash(es) too close to the end to judge"),
        "{}",
        report.detail
    );
}

#[test]
fn the_lock_granted_back_to_the_crashed_client_is_not_progress() {
    let mut f = judge(LockVariant::Lease);
    holder_crashes(&mut f);
    f.at::<Lock>(200, TraceEvent::Restart { node: A });
    expired(&mut f, 300, A, 1);
    granted(&mut f, 400, A, 2, 700);
    let report = verdict(&mut f, 1000, "Progress");
    assert_eq!(report.verdict, Verdict::Fail, "{}", report.detail);
    assert_eq!(report.violations[0].time, ms(600));
}

#[test]
fn only_the_crash_of_the_current_holder_creates_an_obligation() {
    // A released before crashing; B crashed while A held the lock; C leaves
    // while holding nothing. Nobody is granted anything afterwards.
    let mut f = judge(LockVariant::NoExpiry);
    granted(&mut f, 0, A, 1, 300);
    released(&mut f, 50, A, 1);
    crash(&mut f, 100, A);
    granted(&mut f, 150, C, 2, 300);
    crash(&mut f, 200, B);
    let report = verdict(&mut f, 1000, "Progress");
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.detail);
    assert!(!report.detail.contains("holder crash"), "{}", report.detail);
}

#[test]
fn a_leaving_holder_is_a_crashed_one() {
    let mut f = judge(LockVariant::NoExpiry);
    granted(&mut f, 0, A, 1, 300);
    f.at::<Lock>(100, TraceEvent::Leave { node: A });
    let report = verdict(&mut f, 1000, "Progress");
    assert_eq!(report.verdict, Verdict::Fail, "{}", report.detail);
}

#[test]
fn availability_is_the_fraction_of_the_run_the_lock_was_granted() {
    let mut f = judge(LockVariant::Lease);
    granted(&mut f, 0, A, 1, 250);
    write_received(&mut f, 100, A, 10, 1, true);
    write_received(&mut f, 110, A, 11, 1, true);
    write_received(&mut f, 120, A, 12, 1, false);
    expired(&mut f, 250, A, 1);
    granted(&mut f, 500, B, 2, 1000);
    assert_eq!(f.judge.availability(ms(1000)), 0.75);
    assert_eq!(f.judge.availability(ms(0)), 0.0, "an empty run");
    let metrics = f.judge.metrics(ms(1000));
    let metrics: Vec<(&str, f64)> = metrics.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        metrics,
        [
            ("grants", 2.0),
            ("lock_availability", 0.75),
            ("writes_accepted", 2.0)
        ]
    );
    let report = verdict(&mut f, 1000, "Progress");
    assert_eq!(report.detail, "availability 75.0% of the run");
}

#[test]
fn coverage_counts_denials_expiries_and_fenced_writes() {
    let mut f = judge(LockVariant::LeaseFencing);
    let happened = |f: &Feed<LockJudge>| -> Vec<(bool, String)> {
        f.judge
            .coverage()
            .into_iter()
            .map(|c| (c.happened, format!("{}: {}", c.name, c.detail)))
            .collect()
    };
    assert_eq!(
        happened(&f),
        [
            (false, "LockContended: 0 request(s) denied".to_string()),
            (
                false,
                "LeaseExpired: 0 lease(s) expired on the server".to_string()
            ),
            (false, "WriteFenced: 0 write(s) rejected".to_string()),
        ]
    );
    granted(&mut f, 0, A, 1, 100);
    denied(&mut f, 10, B);
    denied(&mut f, 20, C);
    expired(&mut f, 100, A, 1);
    granted(&mut f, 100, B, 2, 200);
    released(&mut f, 150, B, 2);
    write_received(&mut f, 160, B, 20, 2, true);
    write_received(&mut f, 165, B, 21, 2, true);
    write_received(&mut f, 170, A, 10, 1, false);
    assert_eq!(
        happened(&f),
        [
            (true, "LockContended: 2 request(s) denied".to_string()),
            (
                true,
                "LeaseExpired: 1 lease(s) expired on the server".to_string()
            ),
            (true, "WriteFenced: 1 write(s) rejected".to_string()),
        ]
    );
}

#[test]
fn every_listed_check_is_reported_in_order_and_coverage_is_left_to_coverage() {
    let mut f = judge(LockVariant::LeaseFencing);
    let names: Vec<&str> = f.reports(1000).iter().map(|r| r.name).collect();
    assert_eq!(names, ["MutualExclusion", "NoStaleWrite", "Progress"]);
}
