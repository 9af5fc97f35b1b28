//! In-memory drivers for the two machines, and the property every vector must have: the events and output are
//! the same whatever the split of the input into reads (every split into two reads, and random splits).

use proptest::prelude::*;

use super::vectors::{Plan, ReqVector, RespVector, REQUESTS, RESPONSES};
use super::*;
use crate::config::model::HttpConnMode;
use crate::http::head::{self, HeadEdits, RequestHead, ResponseHead};

/// Longest head the drivers accept (the default `tune.bufsize - tune.maxrewrite`).
const MAX_HEAD: usize = 16384 - 1024;

/// What a driver saw, in order; consecutive body runs are merged (a split may cut a body anywhere).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// A request head (its bytes) and what went out to the server for it.
    ReqHead(Vec<u8>, Vec<u8>),
    /// A response head: interim or final, its status and bytes.
    RespHead {
        interim: bool,
        status: u16,
        bytes: Vec<u8>,
    },
    Body(Vec<u8>),
    End,
    /// What follows an exchange (and, for a server connection, whether it may be reused).
    Next(Next, bool),
    /// The response head as it goes to the client (its `Connection` header set by the client side).
    RespOut(Vec<u8>),
    Closed,
    Aborted,
    /// A protocol error: description, in a body, absolute offset in the whole input.
    Error(&'static str, bool, usize),
}

fn push(seen: &mut Vec<Seen>, s: Seen) {
    if let (Some(Seen::Body(prev)), Seen::Body(more)) = (seen.last_mut(), &s) {
        prev.extend_from_slice(more);
        return;
    }
    seen.push(s);
}

/// The input cut at `cuts` (offsets, any order, out of range ignored).
fn chunks(input: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().copied().filter(|&c| c > 0 && c < input.len()).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut start = 0;
    for p in points.into_iter().chain(std::iter::once(input.len())) {
        out.push(input[start..p].to_vec());
        start = p;
    }
    out
}

/// Bytes arriving in `chunks`, then the end of the stream; consumed from the front as events report them.
struct Feed {
    chunks: std::vec::IntoIter<Vec<u8>>,
    buf: Vec<u8>,
    /// Absolute offset of `buf[0]` in the whole input.
    base: usize,
    eof: bool,
}

impl Feed {
    fn new(chunks: Vec<Vec<u8>>) -> Feed {
        Feed { chunks: chunks.into_iter(), buf: Vec::new(), base: 0, eof: false }
    }

    /// More input (or the end of it); false when there is nothing more at all.
    fn more(&mut self) -> bool {
        match self.chunks.next() {
            Some(c) => {
                self.buf.extend_from_slice(&c);
                true
            }
            None if !self.eof => {
                self.eof = true;
                true
            }
            None => false,
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        self.base += n;
        self.buf.drain(..n).collect()
    }
}

/// Drive a client connection through `input` (cut at `cuts`); each request is answered as its vector plans.
fn drive_client(v: &ReqVector, cuts: &[usize]) -> Vec<Seen> {
    let mut cs = ClientSide::new(MAX_HEAD, v.mode);
    let mut feed = Feed::new(chunks(v.input, cuts));
    let mut seen = Vec::new();
    let mut head = RequestHead::default();
    let mut answered = 0;
    let mut due = false;
    for _ in 0..10_000 {
        match cs.poll(&feed.buf, feed.eof, &mut head) {
            ReqEvent::NeedMore if due => {
                due = false;
                let (next, out) = respond(&mut cs, v.plan(answered));
                answered += 1;
                if let Some(out) = out {
                    push(&mut seen, Seen::RespOut(out));
                }
                push(&mut seen, Seen::Next(next, false));
                if next != Next::KeepAlive {
                    return seen;
                }
            }
            ReqEvent::NeedMore => {
                if !feed.more() {
                    return seen;
                }
            }
            ReqEvent::Head(len) => {
                let bytes = feed.buf[..len].to_vec();
                let mut ss = ServerSide::new(MAX_HEAD, v.mode);
                let mut out = Vec::new();
                ss.send_request(&head, &bytes, &mut HeadEdits::default(), &mut out);
                feed.take(len);
                push(&mut seen, Seen::ReqHead(bytes, out));
                if matches!(v.plan(answered), Plan::Local | Plan::Early) {
                    // Answered at once, by the proxy itself or by a server that does not wait for the body: the
                    // request's end is never reported, the next request (if any) follows.
                    let (next, out) = respond(&mut cs, v.plan(answered));
                    answered += 1;
                    if let Some(out) = out {
                        push(&mut seen, Seen::RespOut(out));
                    }
                    push(&mut seen, Seen::Next(next, false));
                    if next != Next::KeepAlive {
                        return seen;
                    }
                }
            }
            ReqEvent::Body(n) => {
                let b = feed.take(n);
                push(&mut seen, Seen::Body(b));
            }
            ReqEvent::End => {
                push(&mut seen, Seen::End);
                due = true;
            }
            ReqEvent::Closed => {
                push(&mut seen, Seen::Closed);
                return seen;
            }
            ReqEvent::Aborted => {
                push(&mut seen, Seen::Aborted);
                return seen;
            }
            ReqEvent::Error(b) => {
                push(&mut seen, Seen::Error(b.what, b.body, feed.base + b.at));
                return seen;
            }
        }
    }
    panic!("the client driver did not finish: {seen:?}");
}

/// Answer the current request as planned: what follows, and the response head as it went to the client.
fn respond(cs: &mut ClientSide, plan: Plan) -> (Next, Option<Vec<u8>>) {
    let resp: &[u8] = match plan {
        Plan::Ok | Plan::Early => b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        Plan::UntilClose => b"HTTP/1.1 200 OK\r\n\r\n",
        Plan::Switch => b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n",
        Plan::Local => return (local(cs), None),
    };
    let mut head = ResponseHead::default();
    let parsed = head::parse_response(resp, MAX_HEAD, false, &mut head);
    assert!(matches!(parsed, Ok(Some(_))), "canned response parses");
    let mut edits = HeadEdits::default();
    let planned = cs.response_head(&head, resp, &mut edits);
    let mut out = Vec::new();
    cs.write_head(&head, resp, &edits, &mut out);
    let next = cs.response_done();
    // A request body still coming when the response ends turns a keep-alive into a close.
    assert!(planned == Some(next) || next == Next::Close, "announced {planned:?}, then {next:?}");
    (next, Some(out))
}

fn local(cs: &mut ClientSide) -> Next {
    let planned = cs.local_answer();
    let next = cs.response_done();
    assert_eq!(planned, next, "what the local answer announced is what follows");
    next
}

/// Drive a server connection: the vector's request goes out, then its response bytes come in (cut at `cuts`).
fn drive_server(v: &RespVector, cuts: &[usize]) -> Vec<Seen> {
    let mut req = RequestHead::default();
    let parsed = head::parse_request(v.request, MAX_HEAD, &mut req);
    assert!(matches!(parsed, Ok(Some(_))), "the vector's request parses: {:?}", String::from_utf8_lossy(v.request));
    let mut ss = ServerSide::new(MAX_HEAD, v.mode);
    let mut out = Vec::new();
    ss.send_request(&req, v.request, &mut HeadEdits::default(), &mut out);
    let mut seen = vec![Seen::ReqHead(v.request.to_vec(), out)];
    let mut feed = Feed::new(chunks(v.input, cuts));
    let mut head = ResponseHead::default();
    for _ in 0..10_000 {
        match ss.poll(&feed.buf, feed.eof, &mut head) {
            RespEvent::NeedMore => {
                if !feed.more() {
                    return seen;
                }
            }
            RespEvent::Interim(len) | RespEvent::Head(len) => {
                let interim = ss.awaiting_head();
                let bytes = feed.take(len);
                push(&mut seen, Seen::RespHead { interim, status: head.status, bytes });
                if ss.next() == Next::Tunnel {
                    push(&mut seen, Seen::Next(Next::Tunnel, ss.reusable(true)));
                    return seen;
                }
            }
            RespEvent::Body(n) => {
                let b = feed.take(n);
                push(&mut seen, Seen::Body(b));
            }
            RespEvent::End => {
                push(&mut seen, Seen::End);
                push(&mut seen, Seen::Next(ss.next(), ss.reusable(true)));
                return seen;
            }
            RespEvent::Closed => {
                push(&mut seen, Seen::Closed);
                return seen;
            }
            RespEvent::Aborted => {
                push(&mut seen, Seen::Aborted);
                return seen;
            }
            RespEvent::Error(b) => {
                push(&mut seen, Seen::Error(b.what, b.body, feed.base + b.at));
                return seen;
            }
        }
    }
    panic!("the server driver did not finish: {seen:?}");
}

/// A short text of a transcript, for the vectors' expectations: `H` request head, `h`/`i` final/interim
/// response head (with its status), `B` body, `E` end, `K`/`C`/`T` what follows (`K!` a reusable server
/// connection), `closed`, `aborted`, `error(head|body)@offset`.
fn summary(seen: &[Seen]) -> String {
    let words: Vec<String> = seen
        .iter()
        .map(|s| match s {
            Seen::ReqHead(..) => "H".to_string(),
            Seen::RespHead { interim: true, status, .. } => format!("i{status}"),
            Seen::RespHead { status, .. } => format!("h{status}"),
            Seen::Body(b) => format!("B{}", b.len()),
            Seen::End => "E".to_string(),
            Seen::Next(n, reusable) => {
                let l = match n {
                    Next::KeepAlive => "K",
                    Next::Close => "C",
                    Next::Tunnel => "T",
                };
                if *reusable {
                    format!("{l}!")
                } else {
                    l.to_string()
                }
            }
            Seen::RespOut(_) => String::new(),
            Seen::Closed => "closed".to_string(),
            Seen::Aborted => "aborted".to_string(),
            Seen::Error(_, body, at) => format!("error({})@{at}", if *body { "body" } else { "head" }),
        })
        .filter(|w: &String| !w.is_empty())
        .collect();
    words.join(" ")
}

#[test]
fn request_vectors_give_their_expected_events() {
    let wrong: Vec<String> = REQUESTS
        .iter()
        .filter_map(|v| {
            let got = summary(&drive_client(v, &[]));
            (got != v.expect).then(|| format!("{}: got {got:?}, expected {:?}", v.name, v.expect))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn response_vectors_give_their_expected_events() {
    let wrong: Vec<String> = RESPONSES
        .iter()
        .filter_map(|v| {
            let got = summary(&drive_server(v, &[]));
            (got != v.expect).then(|| format!("{}: got {got:?}, expected {:?}", v.name, v.expect))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn request_vectors_survive_every_split_in_two() {
    for v in REQUESTS {
        let whole = drive_client(v, &[]);
        for cut in 1..v.input.len() {
            assert_eq!(drive_client(v, &[cut]), whole, "{} cut at {cut}", v.name);
        }
    }
}

#[test]
fn response_vectors_survive_every_split_in_two() {
    for v in RESPONSES {
        let whole = drive_server(v, &[]);
        for cut in 1..v.input.len() {
            assert_eq!(drive_server(v, &[cut]), whole, "{} cut at {cut}", v.name);
        }
    }
}

#[test]
fn byte_by_byte_is_the_same_as_whole() {
    for v in REQUESTS {
        let every: Vec<usize> = (1..v.input.len()).collect();
        assert_eq!(drive_client(v, &every), drive_client(v, &[]), "{}", v.name);
    }
    for v in RESPONSES {
        let every: Vec<usize> = (1..v.input.len()).collect();
        assert_eq!(drive_server(v, &every), drive_server(v, &[]), "{}", v.name);
    }
}

#[test]
fn request_heads_go_out_with_the_connection_header_of_the_mode() {
    let ka = drive_client(&REQUESTS[0], &[]);
    let Some(Seen::ReqHead(_, out)) = ka.first() else { panic!("{ka:?}") };
    assert_eq!(out.as_slice(), b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "keep-alive on 1.1: unchanged");
    let v = REQUESTS.iter().find(|v| v.name == "httpclose").expect("vector");
    let Some(Seen::ReqHead(_, out)) = drive_client(v, &[]).first().cloned() else { panic!() };
    assert!(out.ends_with(b"connection: close\r\n\r\n"), "{:?}", String::from_utf8_lossy(&out));
    let v = REQUESTS.iter().find(|v| v.name == "http/1.0 keep-alive").expect("vector");
    let Some(Seen::ReqHead(_, out)) = drive_client(v, &[]).first().cloned() else { panic!() };
    assert!(out.ends_with(b"connection: keep-alive\r\n\r\n"), "{:?}", String::from_utf8_lossy(&out));
}

#[test]
fn response_heads_go_out_with_the_connection_header_the_request_calls_for() {
    let out_of = |name: &str| -> Vec<String> {
        let v = REQUESTS.iter().find(|v| v.name == name).expect("vector");
        drive_client(v, &[])
            .into_iter()
            .filter_map(|s| match s {
                Seen::RespOut(o) => Some(String::from_utf8_lossy(&o).into_owned()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(out_of("keep-alive get"), ["HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"], "1.1 keep-alive: unchanged");
    let close = out_of("connection close");
    assert!(close[0].ends_with("connection: close\r\n\r\n"), "{close:?}");
    let ka10 = out_of("http/1.0 keep-alive");
    assert!(!ka10[0].contains("close"), "an HTTP/1.0 keep-alive client is kept: {ka10:?}");
    let until = out_of("until-close response closes the client");
    assert!(
        until[0].ends_with("connection: close\r\n\r\n"),
        "the client learns the body ends with the close: {until:?}"
    );
    let ws = out_of("websocket upgrade");
    assert!(ws[0].contains("connection: upgrade"), "a 101 goes as it came: {ws:?}");
    assert_eq!(out_of("pipelined gets").len(), 3);
}

#[test]
fn vectors_are_many_and_named_once() {
    assert!(REQUESTS.len() >= 30 && RESPONSES.len() >= 20);
    let mut names: Vec<&str> = REQUESTS.iter().map(|v| v.name).chain(RESPONSES.iter().map(|v| v.name)).collect();
    names.sort_unstable();
    let n = names.len();
    names.dedup();
    assert_eq!(names.len(), n, "duplicate vector names");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn requests_survive_random_splits(i in 0..REQUESTS.len(), cuts in proptest::collection::vec(0usize..4096, 0..12)) {
        let v = &REQUESTS[i];
        let cuts: Vec<usize> = cuts.into_iter().map(|c| c % v.input.len().max(1)).collect();
        prop_assert_eq!(drive_client(v, &cuts), drive_client(v, &[]), "{}", v.name);
    }

    #[test]
    fn responses_survive_random_splits(i in 0..RESPONSES.len(), cuts in proptest::collection::vec(0usize..4096, 0..12)) {
        let v = &RESPONSES[i];
        let cuts: Vec<usize> = cuts.into_iter().map(|c| c % v.input.len().max(1)).collect();
        prop_assert_eq!(drive_server(v, &cuts), drive_server(v, &[]), "{}", v.name);
    }

    #[test]
    fn any_bytes_end_in_an_answer(input in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..600) {
        // Whatever a client sends, the machine reports something final and never loops.
        let v = ReqVector { name: "random", input: Box::leak(input.into_boxed_slice()), mode: HttpConnMode::KeepAlive, plans: &[], expect: "" };
        let whole = drive_client(&v, &[]);
        prop_assert_eq!(drive_client(&v, &[cut]), whole);
    }
}
