//! The stream steps over a live state built from a config text: persistence, queues and who gets a freed
//! slot, what follows a failed connection attempt.

use std::net::IpAddr;
use std::time::Duration;

use super::connect::{after_failure, redispatches, target, AfterFailure};
use super::runtime::{Runtime, Waiter};
use super::term::Term;
use crate::http::testhead;
use crate::log::FileSink;

fn runtime(text: &str) -> Runtime {
    Runtime::build(&testhead::config(text), &|| FileSink::Discard, 7).expect("runtime")
}

const CLIENT: &str = "10.1.2.3";

fn client() -> IpAddr {
    CLIENT.parse().expect("ip")
}

fn waiter(seq: u64) -> Waiter {
    Waiter { idx: seq as usize, uid: seq + 100, seq }
}

#[test]
fn persistence_names_a_usable_server_of_the_same_backend() {
    let mut rt = runtime(
        "backend a\n mode http\n option prefer-last-server\n server a1 127.0.0.1:1\n server a2 127.0.0.1:2\n\
         backend b\n server b1 127.0.0.1:3\n",
    );
    assert_eq!(rt.persistent_server(0, Some(1), true, client(), None), Some(1), "a cookie's server");
    assert_eq!(rt.persistent_server(0, Some(2), true, client(), None), None, "never another backend's");
    assert_eq!(rt.persistent_server(0, None, true, client(), Some(0)), Some(0), "prefer-last-server");
    rt.servers[1].maint = true;
    assert_eq!(rt.persistent_server(0, Some(1), true, client(), None), None, "a server in maintenance: balanced");
    rt.backends[0].persist = true;
    assert_eq!(rt.persistent_server(0, Some(1), true, client(), None), Some(1), "unless option persist");
}

#[test]
fn stick_on_src_remembers_the_server_for_first_attempts() {
    let rt = runtime(
        "backend a\n stick-table type ip size 10 expire 1m\n stick on src\n server a1 127.0.0.1:1\n \
         server a2 127.0.0.1:2\n",
    );
    assert_eq!(rt.persistent_server(0, None, true, client(), None), None, "nothing remembered yet");
    rt.stick_to(0, client(), 1);
    assert_eq!(rt.persistent_server(0, None, true, client(), None), Some(1));
    assert_eq!(rt.persistent_server(0, None, false, client(), None), None, "a retry is balanced again");
    assert_eq!(rt.persistent_server(0, None, true, "10.9.9.9".parse().expect("ip"), None), None, "another client");
}

#[test]
fn balance_keys() {
    let rt = runtime(
        "backend s\n balance source\n server s1 127.0.0.1:1\nbackend u\n balance uri\n server u1 127.0.0.1:2\n",
    );
    assert!(rt.balance_key(0, client(), None).is_some(), "balance source hashes the client");
    assert_eq!(rt.balance_key(0, client(), None), rt.balance_key(0, client(), Some(5)), "whatever the request");
    assert_eq!(rt.balance_key(1, client(), Some(5)), Some(5), "balance uri takes the request's key");
    assert_eq!(rt.balance_key(1, client(), None), None, "no key: round robin");
}

#[test]
fn queues_serve_the_oldest_waiter_first() {
    let mut rt = runtime("backend a\n server a1 127.0.0.1:1 maxconn 1\n server a2 127.0.0.1:2 maxconn 1\n");
    rt.servers[0].cur = 1;
    assert_eq!(rt.enqueue(0, None, waiter(1)), 0, "first in the backend's queue");
    assert_eq!(rt.enqueue(0, Some(0), waiter(2)), 0, "first in a1's own queue");
    assert_eq!(rt.enqueue(0, None, waiter(3)), 1);
    let mut lb = None;
    assert_eq!(rt.next_waiter(0, &mut lb), None, "a1 is full: nobody");
    rt.servers[0].cur = 0;
    let mut lb = None;
    assert_eq!(rt.next_waiter(0, &mut lb), Some((waiter(1), true)), "the backend's head came first");
    assert_eq!(rt.next_waiter(0, &mut lb), Some((waiter(2), false)), "then a1's own waiter");
    assert_eq!(rt.next_waiter(0, &mut lb), Some((waiter(3), true)));
    assert_eq!(rt.next_waiter(0, &mut lb), None, "all served");
}

#[test]
fn a_server_out_of_rotation_serves_only_its_own_queue() {
    let mut rt = runtime("backend a\n server a1 127.0.0.1:1 maxconn 1\n server a2 127.0.0.1:2 maxconn 1\n");
    rt.enqueue(0, None, waiter(1));
    rt.enqueue(0, Some(0), waiter(2));
    rt.servers[0].drain = true;
    let mut lb = None;
    assert_eq!(rt.next_waiter(0, &mut lb), Some((waiter(2), false)), "its own waiter, though younger");
    assert_eq!(rt.next_waiter(0, &mut lb), None, "not the backend's");
    assert!(!rt.serves_backend_queue(0) && rt.serves_backend_queue(1));
}

#[test]
fn unqueue_takes_out_only_that_session() {
    let mut rt = runtime("backend a\n server a1 127.0.0.1:1 maxconn 1\n");
    rt.enqueue(0, None, waiter(1));
    rt.enqueue(0, None, waiter(2));
    assert!(!rt.unqueue(Some(0), None, 1, 999), "another session in the same slot is not this one");
    assert!(rt.unqueue(Some(0), None, 1, 101));
    assert!(!rt.unqueue(Some(0), None, 1, 101), "already out");
    assert_eq!(rt.backends[0].queue.len(), 1);
    assert!(!rt.unqueue(None, None, 2, 102), "no backend, no server: in no queue");
}

#[test]
fn failed_attempts_retry_then_give_up() {
    let rt = runtime("backend a\n retries 2\n option redispatch\n timeout connect 300ms\n server a1 127.0.0.1:1\n");
    let b = &rt.backends[0];
    assert_eq!(after_failure(b, 0, false), AfterFailure::Retry(Duration::from_millis(300)));
    assert_eq!(after_failure(b, 1, true), AfterFailure::Retry(Duration::from_millis(300)));
    assert_eq!(after_failure(b, 2, false), AfterFailure::GiveUp(Term::SERVER_CONNECT));
    assert_eq!(after_failure(b, 2, true), AfterFailure::GiveUp(Term::SERVER_TIMEOUT_CONNECT));
    assert!(!redispatches(b, 1) && redispatches(b, 2), "the last retry goes elsewhere");
    let slow = runtime("backend a\n timeout connect 5s\n server a1 127.0.0.1:1\n");
    assert_eq!(after_failure(&slow.backends[0], 0, false), AfterFailure::Retry(Duration::from_secs(1)), "at most 1 s");
    assert!(!redispatches(&slow.backends[0], 3), "no option redispatch");
}

#[test]
fn a_server_without_a_port_takes_the_clients() {
    let rt = runtime("backend a\n server a1 127.0.0.1\n server a2 127.0.0.1:81\n");
    assert_eq!(target(&rt.servers[0], 8443).port(), 8443);
    assert_eq!(target(&rt.servers[1], 8443).port(), 81);
}
