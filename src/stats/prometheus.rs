//! `/metrics` in the Prometheus text exposition format, with the metric names, types, help texts and labels
//! (`proxy="…"`, `server="…"`, `state="…"`, `code="…"`) of HAProxy 2.x's built-in exporter
//! (`http-request use-service prometheus-exporter`). Each metric is printed once with its `# HELP` and `# TYPE`
//! lines, followed by one sample per proxy or server. Values come from the same [`Snapshot`] as the CSV, so totals
//! agree with it. `haproxy_backend_up` (the external haproxy_exporter's name) is added for dashboards built on it.

use std::fmt::Write as _;

use super::shm::{AdminState, OpState};
use super::snapshot::{Merged, ProxySnap, ServerSnap, Snapshot, Values};
use super::ProcessInfo;
use crate::config::model::Mode;

/// Content type to send with the body.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// HAProxy's help texts for the metrics printed here.
const HELPS: [(&str, &str); 83] = [
    ("haproxy_backend_active_servers", "Total number of active UP servers with a non-zero weight"),
    ("haproxy_backend_backup_servers", "Total number of backup UP servers with a non-zero weight"),
    ("haproxy_backend_bytes_in_total", "Total number of request bytes since process started"),
    ("haproxy_backend_bytes_out_total", "Total number of response bytes since process started"),
    ("haproxy_backend_client_aborts_total", "Total number of requests or connections aborted by the client since the worker process started"),
    ("haproxy_backend_connection_attempts_total", "Total number of outgoing connection attempts on this backend/server since the worker process started"),
    ("haproxy_backend_connection_errors_total", "Total number of failed connections to server since the worker process started"),
    ("haproxy_backend_current_queue", "Number of current queued connections"),
    ("haproxy_backend_current_sessions", "Number of current sessions on the frontend, backend or server"),
    ("haproxy_backend_http_requests_total", "Total number of HTTP requests processed by this object since the worker process started"),
    ("haproxy_backend_http_responses_total", "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"),
    ("haproxy_backend_limit_sessions", "Frontend/listener/server's maxconn, backend's fullconn"),
    ("haproxy_backend_loadbalanced_total", "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)"),
    ("haproxy_backend_max_queue", "Highest value of queued connections encountered since process started"),
    ("haproxy_backend_max_session_rate", "Highest value of sessions per second observed since the worker process started"),
    ("haproxy_backend_max_sessions", "Highest value of current sessions encountered since process started"),
    ("haproxy_backend_redispatch_warnings_total", "Total number of server redispatches due to connection failures since the worker process started"),
    ("haproxy_backend_requests_denied_total", "Total number of denied requests since process started"),
    ("haproxy_backend_response_errors_total", "Total number of invalid responses since the worker process started"),
    ("haproxy_backend_responses_denied_total", "Total number of denied responses since process started"),
    ("haproxy_backend_retry_warnings_total", "Total number of server connection retries since the worker process started"),
    ("haproxy_backend_server_aborts_total", "Total number of requests or connections aborted by the server since the worker process started"),
    ("haproxy_backend_sessions_total", "Total number of sessions since process started"),
    ("haproxy_backend_status", "Current status of the service, per state label value."),
    ("haproxy_backend_up", "Current health status of the backend (1 = UP, 0 = DOWN)."),
    ("haproxy_backend_weight", "Server's effective weight, or sum of active servers' effective weights for a backend"),
    ("haproxy_frontend_bytes_in_total", "Total number of request bytes since process started"),
    ("haproxy_frontend_bytes_out_total", "Total number of response bytes since process started"),
    ("haproxy_frontend_connections_rate_max", "Highest value of connections per second observed since the worker process started"),
    ("haproxy_frontend_connections_total", "Total number of new connections accepted on this frontend since the worker process started"),
    ("haproxy_frontend_current_sessions", "Number of current sessions on the frontend, backend or server"),
    ("haproxy_frontend_http_requests_rate_max", "Highest value of http requests observed since the worker process started"),
    ("haproxy_frontend_http_requests_total", "Total number of HTTP requests processed by this object since the worker process started"),
    ("haproxy_frontend_http_responses_total", "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"),
    ("haproxy_frontend_intercepted_requests_total", "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started"),
    ("haproxy_frontend_limit_sessions", "Frontend/listener/server's maxconn, backend's fullconn"),
    ("haproxy_frontend_max_session_rate", "Highest value of sessions per second observed since the worker process started"),
    ("haproxy_frontend_max_sessions", "Highest value of current sessions encountered since process started"),
    ("haproxy_frontend_request_errors_total", "Total number of invalid requests since process started"),
    ("haproxy_frontend_requests_denied_total", "Total number of denied requests since process started"),
    ("haproxy_frontend_responses_denied_total", "Total number of denied responses since process started"),
    ("haproxy_frontend_sessions_total", "Total number of sessions since process started"),
    ("haproxy_frontend_status", "Current status of the service, per state label value."),
    ("haproxy_process_build_info", "Build info"),
    ("haproxy_process_connections_total", "Total number of connections on this worker process since started"),
    ("haproxy_process_current_connections", "Current number of connections on this worker process"),
    ("haproxy_process_current_session_rate", "Number of sessions created on this worker process over the last second"),
    ("haproxy_process_max_connections", "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)"),
    ("haproxy_process_max_fds", "Hard limit on the number of per-process file descriptors"),
    ("haproxy_process_nbproc", "Number of started worker processes"),
    ("haproxy_process_relative_process_id", "Relative worker process number (1)"),
    ("haproxy_process_requests_total", "Total number of requests on this worker process since started"),
    ("haproxy_process_start_time_seconds", "Start time in seconds"),
    ("haproxy_process_stopping", "1 if the worker process is currently stopping, otherwise zero"),
    ("haproxy_process_uptime_seconds", "How long ago this worker process was started (seconds)"),
    ("haproxy_server_bytes_in_total", "Total number of request bytes since process started"),
    ("haproxy_server_bytes_out_total", "Total number of response bytes since process started"),
    ("haproxy_server_check_code", "layer5-7 code, if available of the last health check."),
    ("haproxy_server_check_duration_seconds", "Total duration of the latest server health check, in seconds."),
    ("haproxy_server_check_failures_total", "Total number of failed individual health checks per server/backend, since the worker process started"),
    ("haproxy_server_check_last_change_seconds", "How long ago the last server state changed, in seconds"),
    ("haproxy_server_check_up_down_total", "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started"),
    ("haproxy_server_client_aborts_total", "Total number of requests or connections aborted by the client since the worker process started"),
    ("haproxy_server_connection_attempts_total", "Total number of outgoing connection attempts on this backend/server since the worker process started"),
    ("haproxy_server_connection_errors_total", "Total number of failed connections to server since the worker process started"),
    ("haproxy_server_current_queue", "Number of current queued connections"),
    ("haproxy_server_current_sessions", "Number of current sessions on the frontend, backend or server"),
    ("haproxy_server_downtime_seconds_total", "Total time spent in DOWN state, for server or backend"),
    ("haproxy_server_http_responses_total", "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"),
    ("haproxy_server_limit_sessions", "Frontend/listener/server's maxconn, backend's fullconn"),
    ("haproxy_server_loadbalanced_total", "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)"),
    ("haproxy_server_max_queue", "Highest value of queued connections encountered since process started"),
    ("haproxy_server_max_session_rate", "Highest value of sessions per second observed since the worker process started"),
    ("haproxy_server_max_sessions", "Highest value of current sessions encountered since process started"),
    ("haproxy_server_queue_limit", "Limit on the number of connections in queue, for servers only (maxqueue argument)"),
    ("haproxy_server_redispatch_warnings_total", "Total number of server redispatches due to connection failures since the worker process started"),
    ("haproxy_server_response_errors_total", "Total number of invalid responses since the worker process started"),
    ("haproxy_server_responses_denied_total", "Total number of denied responses since process started"),
    ("haproxy_server_retry_warnings_total", "Total number of server connection retries since the worker process started"),
    ("haproxy_server_server_aborts_total", "Total number of requests or connections aborted by the server since the worker process started"),
    ("haproxy_server_sessions_total", "Total number of sessions since process started"),
    ("haproxy_server_status", "Current status of the service, per state label value."),
    ("haproxy_server_weight", "Server's effective weight, or sum of active servers' effective weights for a backend"),
];

fn help_of(name: &str) -> &'static str {
    HELPS.iter().find(|h| h.0 == name).map(|h| h.1).unwrap_or("")
}

fn head(o: &mut String, name: &str, ty: &str) {
    let help = help_of(name);
    let _ = writeln!(o, "# HELP {name} {}", if help.is_empty() { name } else { help });
    let _ = writeln!(o, "# TYPE {name} {ty}");
}

/// Escape a label value (`\`, `"`, newline).
fn lv(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

type ValFn = fn(&ProxySnap, &Values) -> Option<String>;
type SrvFn = fn(&ProxySnap, &ServerSnap, &Snapshot) -> Option<String>;

fn n(v: u64) -> Option<String> {
    Some(v.to_string())
}

fn secs(ms: u64) -> Option<String> {
    Some(format!("{:.6}", ms as f64 / 1000.0))
}

fn http<T>(p: &ProxySnap, v: T) -> Option<T> {
    (p.mode == Mode::Http).then_some(v)
}

const FRONTEND: [(&str, &str, ValFn); 15] = [
    ("haproxy_frontend_current_sessions", "gauge", |_, v| n(v.cur_sess)),
    ("haproxy_frontend_max_sessions", "gauge", |_, v| n(v.max_sess)),
    ("haproxy_frontend_limit_sessions", "gauge", |p, _| n(p.fe_limit as u64)),
    ("haproxy_frontend_sessions_total", "counter", |_, v| n(v.cum_sess)),
    ("haproxy_frontend_bytes_in_total", "counter", |_, v| n(v.bytes_in)),
    ("haproxy_frontend_bytes_out_total", "counter", |_, v| n(v.bytes_out)),
    ("haproxy_frontend_requests_denied_total", "counter", |_, v| n(v.denied_req)),
    ("haproxy_frontend_responses_denied_total", "counter", |_, v| n(v.denied_resp)),
    ("haproxy_frontend_request_errors_total", "counter", |_, v| n(v.failed_req)),
    ("haproxy_frontend_max_session_rate", "gauge", |_, v| n(v.sess_rate_max)),
    ("haproxy_frontend_http_requests_rate_max", "gauge", |p, v| http(p, v.req_rate_max.to_string())),
    ("haproxy_frontend_http_requests_total", "counter", |p, v| http(p, v.cum_req.to_string())),
    ("haproxy_frontend_connections_rate_max", "gauge", |_, v| n(v.conn_rate_max)),
    ("haproxy_frontend_connections_total", "counter", |_, v| n(v.cum_conn)),
    ("haproxy_frontend_intercepted_requests_total", "counter", |p, v| http(p, v.intercepted.to_string())),
];

const BACKEND: [(&str, &str, ValFn); 23] = [
    ("haproxy_backend_current_queue", "gauge", |_, v| n(v.queue_cur)),
    ("haproxy_backend_max_queue", "gauge", |_, v| n(v.queue_max)),
    ("haproxy_backend_current_sessions", "gauge", |_, v| n(v.cur_sess)),
    ("haproxy_backend_max_sessions", "gauge", |_, v| n(v.max_sess)),
    ("haproxy_backend_limit_sessions", "gauge", |p, _| n(p.be_limit as u64)),
    ("haproxy_backend_sessions_total", "counter", |_, v| n(v.cum_sess)),
    ("haproxy_backend_bytes_in_total", "counter", |_, v| n(v.bytes_in)),
    ("haproxy_backend_bytes_out_total", "counter", |_, v| n(v.bytes_out)),
    ("haproxy_backend_requests_denied_total", "counter", |_, v| n(v.denied_req)),
    ("haproxy_backend_responses_denied_total", "counter", |_, v| n(v.denied_resp)),
    ("haproxy_backend_connection_errors_total", "counter", |_, v| n(v.failed_conns)),
    ("haproxy_backend_response_errors_total", "counter", |_, v| n(v.failed_resp)),
    ("haproxy_backend_retry_warnings_total", "counter", |_, v| n(v.retries)),
    ("haproxy_backend_redispatch_warnings_total", "counter", |_, v| n(v.redispatches)),
    ("haproxy_backend_weight", "gauge", |p, _| n(p.be_act_bck_weight().2)),
    ("haproxy_backend_active_servers", "gauge", |p, _| n(p.be_act_bck_weight().0 as u64)),
    ("haproxy_backend_backup_servers", "gauge", |p, _| n(p.be_act_bck_weight().1 as u64)),
    ("haproxy_backend_loadbalanced_total", "counter", |_, v| n(v.cum_lbconn)),
    ("haproxy_backend_max_session_rate", "gauge", |_, v| n(v.sess_rate_max)),
    ("haproxy_backend_http_requests_total", "counter", |p, v| http(p, v.cum_req.to_string())),
    ("haproxy_backend_client_aborts_total", "counter", |_, v| n(v.cli_aborts)),
    ("haproxy_backend_server_aborts_total", "counter", |_, v| n(v.srv_aborts)),
    ("haproxy_backend_connection_attempts_total", "counter", |_, v| n(v.cum_conn)),
];

const SERVER: [(&str, &str, SrvFn); 26] = [
    ("haproxy_server_current_queue", "gauge", |_, s, _| n(s.values.queue_cur)),
    ("haproxy_server_max_queue", "gauge", |_, s, _| n(s.values.queue_max)),
    ("haproxy_server_current_sessions", "gauge", |_, s, _| n(s.values.cur_sess)),
    ("haproxy_server_max_sessions", "gauge", |_, s, _| n(s.values.max_sess)),
    ("haproxy_server_limit_sessions", "gauge", |_, s, _| nan_if_zero(s.maxconn)),
    ("haproxy_server_sessions_total", "counter", |_, s, _| n(s.values.cum_sess)),
    ("haproxy_server_bytes_in_total", "counter", |_, s, _| n(s.values.bytes_in)),
    ("haproxy_server_bytes_out_total", "counter", |_, s, _| n(s.values.bytes_out)),
    ("haproxy_server_responses_denied_total", "counter", |_, s, _| n(s.values.denied_resp)),
    ("haproxy_server_connection_errors_total", "counter", |_, s, _| n(s.values.failed_conns)),
    ("haproxy_server_response_errors_total", "counter", |_, s, _| n(s.values.failed_resp)),
    ("haproxy_server_retry_warnings_total", "counter", |_, s, _| n(s.values.retries)),
    ("haproxy_server_redispatch_warnings_total", "counter", |_, s, _| n(s.values.redispatches)),
    ("haproxy_server_weight", "gauge", |_, s, _| n(s.weight as u64)),
    ("haproxy_server_check_failures_total", "counter", |_, s, _| n(s.values.chk_fail)),
    ("haproxy_server_check_up_down_total", "counter", |_, s, _| n(s.values.chk_down)),
    ("haproxy_server_check_last_change_seconds", "gauge", |_, s, snap| n(snap.age(s.last_change))),
    ("haproxy_server_downtime_seconds_total", "counter", |_, s, _| n(s.values.downtime)),
    ("haproxy_server_queue_limit", "gauge", |_, s, _| nan_if_zero(s.maxqueue)),
    ("haproxy_server_loadbalanced_total", "counter", |_, s, _| n(s.values.cum_lbconn)),
    ("haproxy_server_max_session_rate", "gauge", |_, s, _| n(s.values.sess_rate_max)),
    ("haproxy_server_check_code", "gauge", |_, s, _| n(s.check_code as u64)),
    ("haproxy_server_check_duration_seconds", "gauge", |_, s, _| secs(s.check_duration)),
    ("haproxy_server_client_aborts_total", "counter", |_, s, _| n(s.values.cli_aborts)),
    ("haproxy_server_server_aborts_total", "counter", |_, s, _| n(s.values.srv_aborts)),
    ("haproxy_server_connection_attempts_total", "counter", |_, s, _| n(s.values.cum_conn)),
];

fn nan_if_zero(v: u32) -> Option<String> {
    Some(if v == 0 { "NaN".into() } else { v.to_string() })
}

const CODES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

/// The server's state label as 2.x's exporter names them: `DOWN`, `UP`, `MAINT`, `DRAIN`, `NOLB`.
pub fn server_state(s: &ServerSnap) -> &'static str {
    if s.admin == AdminState::Maint {
        return "MAINT";
    }
    let (running, nolb) = match s.state {
        Merged::Agreed(op, _) => (op.running(), op == OpState::Nolb),
        Merged::Split { up, .. } => (up > 0, false),
    };
    match (running, s.admin, nolb) {
        (false, _, _) => "DOWN",
        (true, AdminState::Drain, _) => "DRAIN",
        (true, _, true) => "NOLB",
        _ => "UP",
    }
}

/// Render the whole exposition.
pub fn render(snap: &Snapshot, info: &ProcessInfo) -> String {
    let mut o = String::with_capacity(32768);
    process(&mut o, snap, info);
    let fes: Vec<(&ProxySnap, &Values)> =
        snap.proxies.iter().filter_map(|p| p.frontend.as_ref().map(|v| (p, v))).collect();
    let bes: Vec<(&ProxySnap, &Values)> =
        snap.proxies.iter().filter_map(|p| p.backend.as_ref().map(|v| (p, v))).collect();
    for (name, ty, f) in FRONTEND {
        simple(&mut o, name, ty, &fes, f);
    }
    head(&mut o, "haproxy_frontend_status", "gauge");
    for (p, _) in &fes {
        let up = u8::from(p.fe_status() != "STOP");
        let _ = writeln!(o, "haproxy_frontend_status{{proxy=\"{}\",state=\"DOWN\"}} {}", lv(&p.name), 1 - up);
        let _ = writeln!(o, "haproxy_frontend_status{{proxy=\"{}\",state=\"UP\"}} {up}", lv(&p.name));
    }
    responses(&mut o, "haproxy_frontend_http_responses_total", &fes);
    for (name, ty, f) in BACKEND {
        simple(&mut o, name, ty, &bes, f);
    }
    head(&mut o, "haproxy_backend_status", "gauge");
    for (p, _) in &bes {
        let up = u8::from(p.be_status() == "UP" || p.servers.is_empty());
        let _ = writeln!(o, "haproxy_backend_status{{proxy=\"{}\",state=\"DOWN\"}} {}", lv(&p.name), 1 - up);
        let _ = writeln!(o, "haproxy_backend_status{{proxy=\"{}\",state=\"UP\"}} {up}", lv(&p.name));
    }
    head(&mut o, "haproxy_backend_up", "gauge");
    for (p, _) in &bes {
        let up = u8::from(p.be_status() == "UP" || p.servers.is_empty());
        let _ = writeln!(o, "haproxy_backend_up{{proxy=\"{}\"}} {up}", lv(&p.name));
    }
    responses(&mut o, "haproxy_backend_http_responses_total", &bes);
    let srvs: Vec<(&ProxySnap, &ServerSnap)> =
        bes.iter().flat_map(|(p, _)| p.servers.iter().map(move |s| (*p, s))).collect();
    for (name, ty, f) in SERVER {
        if srvs.is_empty() {
            break;
        }
        head(&mut o, name, ty);
        for (p, s) in &srvs {
            if let Some(v) = f(p, s, snap) {
                let _ = writeln!(o, "{name}{{proxy=\"{}\",server=\"{}\"}} {v}", lv(&p.name), lv(&s.name));
            }
        }
    }
    if !srvs.is_empty() {
        head(&mut o, "haproxy_server_status", "gauge");
        for (p, s) in &srvs {
            let cur = server_state(s);
            for st in ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"] {
                let _ = writeln!(
                    o,
                    "haproxy_server_status{{proxy=\"{}\",server=\"{}\",state=\"{st}\"}} {}",
                    lv(&p.name),
                    lv(&s.name),
                    u8::from(st == cur)
                );
            }
        }
        let name = "haproxy_server_http_responses_total";
        head(&mut o, name, "counter");
        for (i, code) in CODES.iter().enumerate() {
            for (p, s) in srvs.iter().filter(|(p, _)| p.mode == Mode::Http) {
                let _ = writeln!(
                    o,
                    "{name}{{proxy=\"{}\",server=\"{}\",code=\"{code}\"}} {}",
                    lv(&p.name),
                    lv(&s.name),
                    s.values.hrsp[i]
                );
            }
        }
    }
    o
}

fn simple(o: &mut String, name: &str, ty: &str, rows: &[(&ProxySnap, &Values)], f: ValFn) {
    let samples: Vec<String> = rows
        .iter()
        .filter_map(|(p, v)| f(p, v).map(|val| format!("{name}{{proxy=\"{}\"}} {val}\n", lv(&p.name))))
        .collect();
    if samples.is_empty() {
        return;
    }
    head(o, name, ty);
    for s in samples {
        o.push_str(&s);
    }
}

fn responses(o: &mut String, name: &str, rows: &[(&ProxySnap, &Values)]) {
    let http: Vec<_> = rows.iter().filter(|(p, _)| p.mode == Mode::Http).collect();
    if http.is_empty() {
        return;
    }
    head(o, name, "counter");
    for (i, code) in CODES.iter().enumerate() {
        for (p, v) in &http {
            let _ = writeln!(o, "{name}{{proxy=\"{}\",code=\"{code}\"}} {}", lv(&p.name), v.hrsp[i]);
        }
    }
}

fn process(o: &mut String, snap: &Snapshot, info: &ProcessInfo) {
    let vals: [(&str, &str, String); 12] = [
        ("haproxy_process_nbproc", "gauge", info.nbproc.to_string()),
        ("haproxy_process_relative_process_id", "gauge", info.process_num.to_string()),
        ("haproxy_process_uptime_seconds", "gauge", info.uptime(snap.now_ms).to_string()),
        ("haproxy_process_max_fds", "gauge", info.ulimit_n.to_string()),
        ("haproxy_process_max_connections", "gauge", info.maxconn.to_string()),
        ("haproxy_process_current_connections", "gauge", snap.current_conns().to_string()),
        ("haproxy_process_connections_total", "counter", snap.cum_conns().to_string()),
        ("haproxy_process_requests_total", "counter", snap.cum_reqs().to_string()),
        ("haproxy_process_current_session_rate", "gauge", snap.sess_rate().to_string()),
        ("haproxy_process_stopping", "gauge", u8::from(info.stopping).to_string()),
        ("haproxy_process_start_time_seconds", "gauge", info.start_time.to_string()),
        ("haproxy_process_build_info", "gauge", String::new()),
    ];
    for (name, ty, v) in vals {
        head(o, name, ty);
        if name == "haproxy_process_build_info" {
            let _ = writeln!(o, "{name}{{version=\"{}\"}} 1", lv(&info.version));
        } else {
            let _ = writeln!(o, "{name} {v}");
        }
    }
}
