//! The HTML stats page, laid out like HAProxy's: a process block with the color legend and display options, then
//! one table per proxy with HAProxy's column groups and row classes; with `stats admin`, a checkbox per server
//! and an action form that POSTs `s=SRV&…&action=ACTION&b=BACKEND` back to the stats URI.
//!
//! Also the request side: [`parse_uri_flags`] (`;csv`, `;norefresh`, `;up`, `;no-maint`, `;typed`, `;st=…`),
//! [`parse_admin_post`] and [`AdminAction::apply`], and the result banner [`AdminResult`].

use std::fmt::Write as _;

use super::shm::{AdminState, Segment};
use super::snapshot::{ProxySnap, ServerSnap, Snapshot, Values};
use super::{fmt_short_duration, fmt_uptime, ProcessInfo};
use crate::config::model::{ProxyKind, StatsConf};

/// Outcome of an admin POST, shown as a banner after the `303` to `URI;st=CODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminResult {
    /// Every named server was changed.
    Done,
    /// Nothing to do.
    None,
    /// Some servers were unknown.
    Part,
    /// Bad parameters (unknown action or backend, no known server).
    Errp,
    /// The request body was too large.
    Excd,
    /// The client is not allowed to use admin actions.
    Deny,
}

impl AdminResult {
    /// `DONE`, `NONE`, `PART`, `ERRP`, `EXCD`, `DENY`.
    pub fn code(self) -> &'static str {
        match self {
            AdminResult::Done => "DONE",
            AdminResult::None => "NONE",
            AdminResult::Part => "PART",
            AdminResult::Errp => "ERRP",
            AdminResult::Excd => "EXCD",
            AdminResult::Deny => "DENY",
        }
    }
    /// Parse a `;st=` code.
    pub fn from_code(s: &str) -> Option<AdminResult> {
        [
            AdminResult::Done,
            AdminResult::None,
            AdminResult::Part,
            AdminResult::Errp,
            AdminResult::Excd,
            AdminResult::Deny,
        ]
        .into_iter()
        .find(|r| r.code() == s)
    }
    /// The banner HTML (`<p><div class=…>…</div>`), with a link back to `uri`.
    pub fn banner(self, uri: &str) -> String {
        let (class, text) = match self {
            AdminResult::Done => ("active_up", "Action processed successfully."),
            AdminResult::None => ("active_going_down", "Nothing has changed."),
            AdminResult::Part => (
                "active_going_down",
                "Action partially processed.<br>Some server names are probably unknown or ambiguous (duplicated \
                 names in the backend).",
            ),
            AdminResult::Errp => (
                "active_down",
                "Action not processed because of invalid parameters.<ul><li>The action is maybe unknown.</li>\
                 <li>Invalid key parameter (empty or too long).</li><li>The backend name is probably unknown or \
                 ambiguous (duplicated names).</li><li>Some server names are probably unknown or ambiguous \
                 (duplicated names in the backend).</li></ul>",
            ),
            AdminResult::Excd => (
                "active_down",
                "<b>Action not processed : the buffer couldn't store all the data.<br>You should retry with less \
                 servers at a time.</b>",
            ),
            AdminResult::Deny => ("active_down", "<b>Action denied.</b>"),
        };
        format!(
            "<p><div class={class}><a class=lfsb href=\"{}\" title=\"Remove this message\">[X]</a> {text}</div>\n",
            esc(uri)
        )
    }
}

/// An action of the page's admin form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAction {
    /// `ready` (and 1.4's `enable`/`start`): admin state READY.
    Ready,
    /// `drain`: admin state DRAIN.
    Drain,
    /// `maint` (and 1.4's `disable`/`stop`): admin state MAINT.
    Maint,
}

/// A parsed admin POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAction {
    /// `b=`: a backend name, or `#ID`.
    pub backend: String,
    /// Every `s=`.
    pub servers: Vec<String>,
    /// `action=`.
    pub action: PageAction,
}

/// Decode `application/x-www-form-urlencoded` text (`+` is a space, `%XX` a byte).
pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse the admin form's body: `s=SRV` (repeatable), `action=ACTION`, `b=BACKEND` in any order. Unknown actions
/// (2.x's health/agent ones included, which nbproxy does not implement) and a missing backend or server give
/// `Err(AdminResult::Errp)`; a body larger than `max_len` gives `Err(AdminResult::Excd)`.
pub fn parse_admin_post(body: &[u8], max_len: usize) -> Result<AdminAction, AdminResult> {
    if body.len() > max_len {
        return Err(AdminResult::Excd);
    }
    let text = std::str::from_utf8(body).map_err(|_| AdminResult::Errp)?;
    let (mut backend, mut servers, mut action) = (None, Vec::new(), None);
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = url_decode(v);
        match k {
            "b" => backend = Some(v),
            "s" if !v.is_empty() => servers.push(v),
            "action" => {
                action = Some(match v.as_str() {
                    "ready" | "enable" | "start" => PageAction::Ready,
                    "drain" => PageAction::Drain,
                    "maint" | "disable" | "stop" => PageAction::Maint,
                    _ => return Err(AdminResult::Errp),
                })
            }
            _ => {}
        }
    }
    match (backend, action) {
        (Some(b), Some(a)) if !b.is_empty() && !servers.is_empty() => {
            Ok(AdminAction { backend: b, servers, action: a })
        }
        _ => Err(AdminResult::Errp),
    }
}

impl AdminAction {
    /// Apply to the segment's admin area (every worker picks it up on its next loop turn). The backend is
    /// resolved by name or `#id` against `snap`. `DONE` if every server was known, `PART` if some were, `ERRP`
    /// if none or the backend is unknown.
    pub fn apply(&self, seg: &Segment, snap: &Snapshot) -> AdminResult {
        let pi = match self.backend.strip_prefix('#') {
            Some(id) => snap.proxies.iter().position(|p| p.backend.is_some() && id.parse() == Ok(p.id)),
            None => snap.proxies.iter().position(|p| p.backend.is_some() && p.name == self.backend),
        };
        let Some(pi) = pi else { return AdminResult::Errp };
        let state = match self.action {
            PageAction::Ready => AdminState::Ready,
            PageAction::Drain => AdminState::Drain,
            PageAction::Maint => AdminState::Maint,
        };
        let mut done = 0;
        for name in &self.servers {
            let si = snap.proxies[pi].servers.iter().position(|s| &s.name == name);
            if let Some(i) = si.and_then(|si| seg.layout().server_index(pi, si)) {
                if seg.set_admin_state(i, state) {
                    done += 1;
                }
            }
        }
        match done {
            0 => AdminResult::Errp,
            n if n == self.servers.len() => AdminResult::Done,
            _ => AdminResult::Part,
        }
    }
}

/// Modifiers that follow the stats URI (`/stats;csv;norefresh`, `?scope=NAME`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UriFlags {
    /// `;csv`.
    pub csv: bool,
    /// `;typed` (with `;csv`).
    pub typed: bool,
    /// `;norefresh`.
    pub norefresh: bool,
    /// `;up`: hide servers that are not up.
    pub up: bool,
    /// `;no-maint`: hide servers in maintenance.
    pub no_maint: bool,
    /// `;st=CODE`: show the banner of a previous admin POST.
    pub st: Option<AdminResult>,
    /// `?scope=NAME` (or `;scope=`): show only proxies whose name contains it.
    pub scope: Option<String>,
}

/// Parse what follows the stats URI prefix.
pub fn parse_uri_flags(rest: &str) -> UriFlags {
    let mut f = UriFlags::default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    for part in path.split(';').chain(query.split('&')) {
        match part {
            "csv" => f.csv = true,
            "typed" => f.typed = true,
            "norefresh" => f.norefresh = true,
            "up" => f.up = true,
            "no-maint" => f.no_maint = true,
            _ => {
                if let Some(c) = part.strip_prefix("st=") {
                    f.st = AdminResult::from_code(c);
                } else if let Some(s) = part.strip_prefix("scope=") {
                    let s = url_decode(s);
                    f.scope = (!s.is_empty()).then_some(s);
                }
            }
        }
    }
    f
}

/// Everything the page needs besides the data.
#[derive(Debug, Clone, Default)]
pub struct PageOptions {
    /// The `stats uri` prefix (links and form targets).
    pub uri: String,
    /// `stats refresh` in seconds.
    pub refresh: Option<u64>,
    /// `stats hide-version`.
    pub hide_version: bool,
    /// `stats show-node [NAME]`: the node name to show.
    pub show_node: Option<String>,
    /// `stats show-desc [TEXT]`.
    pub show_desc: Option<String>,
    /// `stats show-legends`: tooltips with proxy capabilities and server addresses.
    pub show_legends: bool,
    /// `stats scope`: only these proxies (empty = all).
    pub scope: Vec<String>,
    /// `stats admin` matched for this request.
    pub admin: bool,
    /// From the URI.
    pub flags: UriFlags,
}

impl PageOptions {
    /// From a proxy's `stats` keywords and the request URI's modifiers. `node`/`desc` are the global values used
    /// when `show-node` / `show-desc` are given without an argument.
    pub fn from_conf(conf: &StatsConf, flags: UriFlags, admin: bool, node: &str, desc: &str) -> PageOptions {
        PageOptions {
            uri: conf.uri.clone(),
            refresh: conf.refresh.map(|d| d.as_secs()),
            hide_version: conf.hide_version,
            show_node: conf.show_node.as_ref().map(|n| if n.is_empty() { node.to_string() } else { n.clone() }),
            show_desc: conf.show_desc.as_ref().map(|d| if d.is_empty() { desc.to_string() } else { d.clone() }),
            show_legends: conf.show_legends,
            scope: conf.scope.clone(),
            admin,
            flags,
        }
    }
    /// The `Refresh:` header value to send with the page, if any (`;norefresh` disables it).
    pub fn refresh_header(&self) -> Option<u64> {
        self.refresh.filter(|_| !self.flags.norefresh)
    }
}

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A number with HAProxy's thousands marking: the digit before each group of three is letter-spaced
/// (`9985` → `<span class="rls">9</span>985`).
pub fn u2h(n: u64) -> String {
    let d = n.to_string();
    let len = d.len();
    let mut o = String::new();
    for (i, c) in d.chars().enumerate() {
        let left = len - i - 1;
        if left > 0 && left.is_multiple_of(3) {
            let _ = write!(o, "<span class=\"rls\">{c}</span>");
        } else {
            o.push(c);
        }
    }
    o
}

const CSS: &str = "body { font-family: arial, helvetica, sans-serif; font-size: 12px; color: black; background: white;}
th,td { font-size: 10px;}
h1 { font-size: x-large; margin-bottom: 0.5em;}
h2 { font-family: helvetica, arial; font-size: x-large; font-weight: bold; font-style: italic; color: #6020a0; margin: 0;}
h3 { font-family: helvetica, arial; font-size: 16px; font-weight: bold; color: #b00040; background: #e8e8d0; margin: 0;}
.hr { margin-top: 0.25em; border-color: black; border-bottom-style: solid;}
.titre { background: #20D0D0; color: #000000; font-weight: bold; text-align: center;}
.total { background: #20D0D0; color: #ffff80;}
.frontend, .backend { background: #e8e8d0;}
.socket { background: #d0d0d0;}
.active_down, .backup_down { background: #ff9090;}
.active_going_up { background: #ffd020;}
.active_going_down { background: #ffffa0;}
.active_up { background: #c0ffc0;}
.active_nolb, .active_draining { background: #20a0ff;}
.active_no_check, .backup_no_check { background: #e0e0e0;}
.backup_going_up { background: #ff80ff;}
.backup_going_down { background: #c060ff;}
.backup_up { background: #b0d0ff;}
.backup_nolb { background: #90b0e0;}
.backup_draining { background: #cc9900;}
.maintain { background: #c07820;}
.rls { letter-spacing: 0.2em; margin-right: 1px;}
a.px:link, a.px:visited { color: #ffff40; text-decoration: none;}
a.lfsb:link, a.lfsb:visited { color: #000000; text-decoration: none;}
table.tbl { border-collapse: collapse; border-style: none;}
table.tbl td { text-align: right; border: 1px solid gray; padding: 2px 3px; white-space: nowrap;}
table.tbl td.ac { text-align: center;}
table.tbl th { border: 1px solid gray;}
table.tbl th.pxname { background: #b00040; color: #ffff40; font-weight: bold; padding: 2px 3px; white-space: nowrap;}
table.tbl th.empty { border-style: none; background: white;}
table.lgd { border-collapse: collapse; border-left: 1px solid black;}
table.lgd td { border: 1px solid gray; padding: 2px;}
table.lgd td.noborder { border-style: none; padding: 2px; white-space: nowrap;}
u { text-decoration: none; border-bottom: 1px dotted black;}
div.tips { display: block; visibility: hidden; position: absolute; padding: 2px 4px 3px; background: #f0f060;
 border: 1px solid #7040c0; white-space: nowrap; font-size: 11px;}
u:hover div.tips { visibility: visible;}
";

/// Render the whole page.
pub fn render_page(snap: &Snapshot, info: &ProcessInfo, opts: &PageOptions) -> String {
    let mut o = String::with_capacity(16384);
    let node = opts.show_node.as_deref().filter(|n| !n.is_empty());
    let _ = write!(
        o,
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\"http://www.w3.org/TR/html4/loose.dtd\">\n\
         <html><head><title>Statistics Report for {}{}</title>\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n",
        esc(&info.name),
        node.map(|n| format!(" on {}", esc(n))).unwrap_or_default()
    );
    if let Some(r) = opts.refresh_header() {
        let _ = writeln!(o, "<meta http-equiv=\"refresh\" content=\"{r}\">");
    }
    let _ = write!(o, "<style type=\"text/css\"><!--\n{CSS}-->\n</style></head>\n<body>");
    if opts.hide_version {
        let _ = writeln!(o, "<h1>{}</h1>", esc(&info.name));
    } else {
        let _ = writeln!(o, "<h1>{} version {}</h1>", esc(&info.name), esc(&info.version));
    }
    let _ = writeln!(
        o,
        "<h2>Statistics Report for pid {}{}{}</h2>\n<hr width=\"100%\" class=\"hr\">",
        info.pid,
        node.map(|n| format!(" on {}", esc(n))).unwrap_or_default(),
        opts.show_desc.as_deref().filter(|d| !d.is_empty()).map(|d| format!(": {}", esc(d))).unwrap_or_default()
    );
    process_block(&mut o, snap, info, opts);
    if let Some(st) = opts.flags.st {
        o.push_str(&st.banner(&opts.uri));
    }
    for p in &snap.proxies {
        if !in_scope(p, opts) {
            continue;
        }
        proxy_tables(&mut o, snap, p, opts);
    }
    o.push_str("</body></html>\n");
    o
}

fn in_scope(p: &ProxySnap, opts: &PageOptions) -> bool {
    (opts.scope.is_empty() || opts.scope.iter().any(|s| s == &p.name))
        && opts.flags.scope.as_deref().is_none_or(|s| p.name.contains(s))
}

fn process_block(o: &mut String, snap: &Snapshot, info: &ProcessInfo, opts: &PageOptions) {
    let uptime = fmt_uptime(info.uptime(snap.now_ms));
    let _ = write!(
        o,
        "<h3>&gt; General process information</h3>\n<table border=0><tr><td align=\"left\" nowrap width=\"1%\">\n\
         <p><b>pid = </b> {} (process #{}, nbproc = {}, workers reporting = {})<br>\n\
         <b>uptime = </b> {uptime}<br>\n\
         <b>system limits:</b> memmax = unlimited; ulimit-n = {}<br>\n\
         <b>maxsock = </b> {}; <b>maxconn = </b> {}; <b>maxpipes = </b> {}<br>\n\
         current conns = {}; current pipes = {}/{}; conn rate = {}/sec<br>\n</td>",
        info.pid,
        info.process_num,
        info.nbproc,
        snap.live_workers,
        info.ulimit_n,
        info.maxsock,
        info.maxconn,
        info.maxpipes,
        snap.current_conns(),
        snap.pipes_used,
        snap.pipes_used + snap.pipes_free,
        snap.sess_rate()
    );
    o.push_str(
        "<td align=\"center\" nowrap>\n<table class=\"lgd\"><tr>\n\
         <td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td>\
         <td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td></tr><tr>\n\
         <td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td>\
         <td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td></tr><tr>\n\
         <td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td>\
         <td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td></tr><tr>\n\
         <td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td>\
         <td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td></tr><tr>\n\
         <td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance \
         (MAINT) &nbsp;</td></tr><tr>\n\
         <td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for \
         maintenance &nbsp;</td></tr></table>\n\
         Note: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled; \"UP n/N\" = n of N workers see it UP.</td>",
    );
    let uri = esc(&opts.uri);
    let nr = if opts.flags.norefresh { ";norefresh" } else { "" };
    let _ = writeln!(
        o,
        "<td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b><ul style=\"margin-top: \
         0.25em;\"><li><form method=\"GET\">Scope : <input value=\"{}\" name=\"scope\" size=\"8\" maxlength=\"20\" \
         tabindex=\"1\"/></form>",
        esc(opts.flags.scope.as_deref().unwrap_or(""))
    );
    if opts.flags.up {
        let _ = writeln!(o, "<li><a href=\"{uri}{nr}\">Show all servers</a><br>");
    } else {
        let _ = writeln!(o, "<li><a href=\"{uri};up{nr}\">Hide 'DOWN' servers</a><br>");
    }
    if opts.refresh.is_some() {
        if opts.flags.norefresh {
            let _ = writeln!(o, "<li><a href=\"{uri}\">Enable refresh</a><br>");
        } else {
            let _ = writeln!(o, "<li><a href=\"{uri};norefresh\">Disable refresh</a><br>");
        }
    }
    let _ = writeln!(o, "<li><a href=\"{uri}{nr}\">Refresh now</a><br>");
    let _ = writeln!(o, "<li><a href=\"{uri};csv;norefresh\">CSV export</a><br>");
    o.push_str("</ul></td></tr></table>\n");
}

const HEAD_GROUPS: &str = "<th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th>\
<th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th>\
<th colspan=9>Server</th></tr>\n";
const HEAD_COLS: &str = "<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th>\
<th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th>\
<th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th>\
<th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th>\
<th>Thrtle</th>\n</tr>";

fn cap(kind: ProxyKind) -> &'static str {
    match kind {
        ProxyKind::Frontend => "frontend",
        ProxyKind::Backend => "backend",
        ProxyKind::Listen => "proxy",
    }
}

fn td(o: &mut String, v: impl std::fmt::Display) {
    let _ = write!(o, "<td>{v}</td>");
}

fn proxy_tables(o: &mut String, snap: &Snapshot, p: &ProxySnap, opts: &PageOptions) {
    let admin = opts.admin && p.backend.is_some() && !p.servers.is_empty();
    let name = esc(&p.name);
    if admin {
        o.push_str("<form method=\"post\">");
    }
    let legend = if opts.show_legends {
        format!("<div class=tips>cap: {}, mode: {}, id: {}</div>", cap(p.kind), super::csv::mode_name(p.mode), p.id)
    } else {
        String::new()
    };
    let _ = write!(
        o,
        "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a \
         name=\"{name}\"></a><u><a class=px href=\"#{name}\">{name}</a>{legend}</u></th><th class=\"empty\" \
         width=\"90%\"></th></tr>\n</table>\n<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\">"
    );
    if admin {
        let _ = write!(
            o,
            "<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for(c in \
             document.getElementsByClassName('{name}-checkbox')) \
             document.getElementsByClassName('{name}-checkbox').item(c).checked = this.checked\"></th>"
        );
    } else {
        o.push_str("<th rowspan=2></th>");
    }
    o.push_str("<th rowspan=2></th>");
    o.push_str(HEAD_GROUPS);
    o.push_str(HEAD_COLS);
    if let Some(v) = &p.frontend {
        frontend_row(o, p, v);
    }
    if p.backend.is_some() {
        for s in &p.servers {
            if opts.flags.no_maint && s.admin == AdminState::Maint {
                continue;
            }
            if opts.flags.up && !s.usable() && s.admin != AdminState::Drain {
                continue;
            }
            server_row(o, snap, p, s, opts, admin);
        }
    }
    if let Some(v) = &p.backend {
        backend_row(o, snap, p, v);
    }
    o.push_str("</table>");
    if admin {
        let _ = write!(
            o,
            "Choose the action to perform on the checked servers : <select name=action><option value=\"\"></option>\
             <option value=\"ready\">Set state to READY</option><option value=\"drain\">Set state to DRAIN</option>\
             <option value=\"maint\">Set state to MAINT</option></select><input type=\"hidden\" name=\"b\" \
             value=\"#{}\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>",
            p.id
        );
    }
    o.push_str("<p>\n");
}

fn frontend_row(o: &mut String, p: &ProxySnap, v: &Values) {
    let name = esc(&p.name);
    let _ = write!(
        o,
        "<tr class=\"frontend\"><td></td><td class=ac><a name=\"{name}/Frontend\"></a><a class=lfsb \
         href=\"#{name}/Frontend\">Frontend</a></td><td colspan=3></td>"
    );
    td(o, u2h(v.sess_rate));
    td(o, u2h(v.sess_rate_max));
    td(o, "-");
    td(o, u2h(v.cur_sess));
    td(o, u2h(v.max_sess));
    td(o, u2h(p.fe_limit as u64));
    td(o, u2h(v.cum_sess));
    o.push_str("<td></td><td></td>");
    td(o, u2h(v.bytes_in));
    td(o, u2h(v.bytes_out));
    td(o, u2h(v.denied_req));
    td(o, u2h(v.denied_resp));
    td(o, u2h(v.failed_req));
    o.push_str("<td></td><td></td><td></td><td></td>");
    let _ = writeln!(o, "<td class=ac>{}</td><td class=ac colspan=8></td></tr>", p.fe_status());
}

fn server_row(o: &mut String, snap: &Snapshot, p: &ProxySnap, s: &ServerSnap, opts: &PageOptions, admin: bool) {
    let v = &s.values;
    let (pn, sn) = (esc(&p.name), esc(&s.name));
    let _ = write!(o, "<tr class=\"{}\">", s.css_class());
    if admin {
        let _ = write!(o, "<td><input class='{pn}-checkbox' type=\"checkbox\" name=\"s\" value=\"{sn}\"></td>");
    } else {
        o.push_str("<td></td>");
    }
    let tip =
        if opts.show_legends { format!("<div class=tips>{}, id: {}</div>", esc(&s.addr), s.id) } else { String::new() };
    let _ =
        write!(o, "<td class=ac><a name=\"{pn}/{sn}\"></a><u><a class=lfsb href=\"#{pn}/{sn}\">{sn}</a>{tip}</u></td>");
    td(o, u2h(v.queue_cur));
    td(o, u2h(v.queue_max));
    td(o, if s.maxqueue > 0 { u2h(s.maxqueue as u64) } else { "-".into() });
    td(o, u2h(v.sess_rate));
    td(o, u2h(v.sess_rate_max));
    o.push_str("<td></td>");
    td(o, u2h(v.cur_sess));
    td(o, u2h(v.max_sess));
    td(o, if s.maxconn > 0 { u2h(s.maxconn as u64) } else { "-".into() });
    td(o, u2h(v.cum_sess));
    td(o, u2h(v.cum_lbconn));
    td(o, if v.last_sess == 0 { "?".into() } else { fmt_short_duration(snap.age(v.last_sess)) });
    td(o, u2h(v.bytes_in));
    td(o, u2h(v.bytes_out));
    o.push_str("<td></td>");
    td(o, u2h(v.denied_resp));
    o.push_str("<td></td>");
    td(o, u2h(v.failed_conns));
    td(o, u2h(v.failed_resp));
    td(o, u2h(v.retries));
    td(o, u2h(v.redispatches));
    let arrow = match s.css_class() {
        c if c.ends_with("going_down") => " &darr;",
        c if c.ends_with("going_up") => " &uarr;",
        _ => "",
    };
    let _ = write!(o, "<td class=ac>{} {}{arrow}</td>", fmt_short_duration(snap.age(s.last_change)), s.status_text());
    if s.check && s.check_status != super::shm::CheckStatus::Unknown && s.admin != AdminState::Maint {
        let code = if s.check_status.has_code() { format!("/{}", s.check_code) } else { String::new() };
        let _ = write!(
            o,
            "<td class=ac><u> {}{code} in {}ms<div class=tips>{}</div></u></td>",
            s.check_status.code(),
            s.check_duration,
            s.check_status.desc()
        );
    } else {
        o.push_str("<td></td>");
    }
    let _ = write!(o, "<td class=ac>{}/{}</td>", s.weight, s.initial_weight);
    let _ = write!(o, "<td class=ac>{}</td><td class=ac>{}</td>", yn(!s.backup), yn(s.backup));
    if s.check {
        let _ = write!(
            o,
            "<td><u>{}<div class=tips>Failed Health Checks</div></u></td><td>{}</td><td>{}</td>",
            u2h(v.chk_fail),
            u2h(v.chk_down),
            fmt_short_duration(v.downtime)
        );
    } else {
        o.push_str("<td colspan=3></td>");
    }
    o.push_str("<td class=ac>-</td></tr>\n");
}

fn yn(b: bool) -> &'static str {
    if b {
        "Y"
    } else {
        "-"
    }
}

fn backend_row(o: &mut String, snap: &Snapshot, p: &ProxySnap, v: &Values) {
    let name = esc(&p.name);
    let _ = write!(
        o,
        "<tr class=\"backend\"><td></td><td class=ac><u><a name=\"{name}/Backend\"></a><a class=lfsb \
         href=\"#{name}/Backend\">Backend</a><div class=tips>balancing: {}</div></u></td>",
        p.algo
    );
    td(o, u2h(v.queue_cur));
    td(o, u2h(v.queue_max));
    o.push_str("<td></td>");
    td(o, u2h(v.sess_rate));
    td(o, u2h(v.sess_rate_max));
    o.push_str("<td></td>");
    td(o, u2h(v.cur_sess));
    td(o, u2h(v.max_sess));
    td(o, u2h(p.be_limit as u64));
    td(o, u2h(v.cum_sess));
    td(o, u2h(v.cum_lbconn));
    td(o, if v.last_sess == 0 { "?".into() } else { fmt_short_duration(snap.age(v.last_sess)) });
    td(o, u2h(v.bytes_in));
    td(o, u2h(v.bytes_out));
    td(o, u2h(v.denied_req));
    td(o, u2h(v.denied_resp));
    o.push_str("<td></td>");
    td(o, u2h(v.failed_conns));
    td(o, u2h(v.failed_resp));
    td(o, u2h(v.retries));
    td(o, u2h(v.redispatches));
    let (act, bck, weight) = p.be_act_bck_weight();
    let status = if weight > 0 || p.servers.is_empty() {
        "UP".to_string()
    } else {
        "<font color=\"red\"><b>DOWN</b></font>".to_string()
    };
    let _ = write!(
        o,
        "<td class=ac>{} {status}</td><td class=ac>&nbsp;</td><td class=ac>{weight}/{}</td><td class=ac>{act}</td>\
         <td class=ac>{bck}</td><td class=ac>&nbsp;</td><td>{}</td><td>{}</td><td></td></tr>",
        fmt_short_duration(snap.age(p.be_last_change())),
        p.servers.iter().map(|s| s.initial_weight as u64).sum::<u64>(),
        p.servers.iter().map(|s| s.values.chk_down).sum::<u64>(),
        if p.servers.is_empty() { "&nbsp;".to_string() } else { fmt_short_duration(0) },
    );
}
