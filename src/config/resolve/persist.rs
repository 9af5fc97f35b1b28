//! Persistence: `cookie`, `stick-table` and `stick` rules.

use super::proxy::{parse_num, PxBuilder};
use super::unsupported;
use crate::config::grammar::Line;
use crate::config::model::*;
use crate::config::units::{parse_size, parse_time};

impl PxBuilder {
    /// `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] …`.
    pub(crate) fn cookie(&mut self, w: &[String]) -> Result<(), String> {
        let name = w.get(1).ok_or("'cookie' expects <cookie_name> as argument.")?.clone();
        let mut c = CookieConf {
            name,
            mode: CookieMode::Passive,
            indirect: false,
            nocache: false,
            postonly: false,
            preserve: false,
            httponly: false,
            secure: false,
            domains: Vec::new(),
            maxidle: None,
            maxlife: None,
            dynamic: false,
            attrs: Vec::new(),
        };
        let mut i = 2;
        while i < w.len() {
            let val = |i: usize| w.get(i + 1).ok_or_else(|| format!("'cookie {}' expects a value.", w[i]));
            match w[i].as_str() {
                "rewrite" => c.mode = CookieMode::Rewrite,
                "insert" => c.mode = CookieMode::Insert,
                "prefix" => c.mode = CookieMode::Prefix,
                "indirect" => c.indirect = true,
                "nocache" => c.nocache = true,
                "postonly" => c.postonly = true,
                "preserve" => c.preserve = true,
                "httponly" => c.httponly = true,
                "secure" => c.secure = true,
                "dynamic" => c.dynamic = true,
                "domain" => {
                    c.domains.push(val(i)?.clone());
                    i += 1;
                }
                "attr" => {
                    c.attrs.push(val(i)?.clone());
                    i += 1;
                }
                "maxidle" | "maxlife" => {
                    let d = parse_time(val(i)?).map_err(|e| format!("'cookie {}': {e}", w[i]))?;
                    if w[i] == "maxidle" {
                        c.maxidle = Some(d);
                    } else {
                        c.maxlife = Some(d);
                    }
                    i += 1;
                }
                o => return Err(format!("'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'maxlife', 'dynamic' and 'attr' options (got '{o}').")),
            }
            i += 1;
        }
        self.px.cookie = Some(c);
        Ok(())
    }

    /// `stick-table …` and `stick on|match|store-request|store-response …`.
    pub(crate) fn stick(&mut self, line: &Line) -> Result<(), String> {
        let w = &line.words;
        if w[0] == "stick-table" {
            let mut st = StickConf {
                pos: line.pos.clone(),
                table_type: String::new(),
                len: None,
                size: 0,
                expire: None,
                nopurge: false,
                store: Vec::new(),
                rules: self.px.stick.take().map(|s| s.rules).unwrap_or_default(),
            };
            let mut i = 1;
            while i < w.len() {
                let v = w.get(i + 1).ok_or_else(|| format!("'stick-table': '{}' expects an argument.", w[i]));
                match w[i].as_str() {
                    "type" => {
                        st.table_type = v?.clone();
                        if !matches!(st.table_type.as_str(), "ip" | "ipv6" | "integer" | "string" | "binary") {
                            return Err(format!("'stick-table': unknown type '{}'", st.table_type));
                        }
                        if w.get(i + 2).map(String::as_str) == Some("len") {
                            st.len = Some(parse_num(w, i + 3)?);
                            i += 2;
                        }
                    }
                    "size" => st.size = parse_size(v?).map_err(|e| format!("'stick-table size': {e}"))?,
                    "expire" => st.expire = Some(parse_time(v?).map_err(|e| format!("'stick-table expire': {e}"))?),
                    "len" => st.len = Some(parse_num(w, i + 1)?),
                    "store" => {
                        for item in v?.split(',').map(str::trim).filter(|x| !x.is_empty()) {
                            let s = parse_store(item)?;
                            if !st.store.iter().any(|x| x.data == s.data) {
                                st.store.push(s);
                            }
                        }
                    }
                    "nopurge" => {
                        st.nopurge = true;
                        i -= 1;
                    }
                    "peers" => return Err(unsupported("peers")),
                    o => return Err(format!("'stick-table': unknown argument '{o}'")),
                }
                i += 2;
            }
            if st.table_type.is_empty() || st.size == 0 {
                return Err("'stick-table': missing 'type' or 'size'.".into());
            }
            self.px.stick = Some(st);
            return Ok(());
        }
        let kind = w.get(1).ok_or("'stick' expects 'on', 'match', 'store-request' or 'store-response'.")?.clone();
        if !matches!(kind.as_str(), "on" | "match" | "store-request" | "store-response") {
            return Err(format!(
                "'stick' only supports 'on', 'match', 'store-request' and 'store-response' (got '{kind}')."
            ));
        }
        let expr = w.get(2).ok_or("'stick' expects a sample expression.")?.clone();
        let mut table = None;
        let mut rest = &w[3..];
        if rest.first().map(String::as_str) == Some("table") {
            table = Some(rest.get(1).ok_or("'stick ... table' expects a table name.")?.clone());
            rest = &rest[2..];
        }
        let cond = self.opt_cond(rest, &line.pos)?;
        let rule = StickRule { pos: line.pos.clone(), kind, expr, table, cond };
        let pos = line.pos.clone();
        self.px
            .stick
            .get_or_insert_with(|| StickConf {
                pos,
                table_type: String::new(),
                len: None,
                size: 0,
                expire: None,
                nopurge: false,
                store: Vec::new(),
                rules: Vec::new(),
            })
            .rules
            .push(rule);
        Ok(())
    }
}

/// One `store` item: `http_req_rate(10s)`, `gpc0`, …
fn parse_store(item: &str) -> Result<StickStore, String> {
    let (name, period) = match item.split_once('(') {
        Some((n, rest)) => {
            let p = rest.strip_suffix(')').ok_or_else(|| format!("'stick-table': missing ')' in '{item}'."))?;
            (n, Some(parse_time(p).map_err(|e| format!("'stick-table': '{item}': {e}"))?))
        }
        None => (item, None),
    };
    let data = StickData::from_name(name).ok_or_else(|| {
        if matches!(
            name,
            "gpc1"
                | "gpc1_rate"
                | "gpt"
                | "gpc"
                | "gpc_rate"
                | "http_fail_cnt"
                | "http_fail_rate"
                | "bytes_in_rate"
                | "bytes_out_rate"
                | "server_key"
                | "server_name"
                | "glitch_cnt"
                | "glitch_rate"
        ) {
            unsupported(&format!("stick-table store {name}"))
        } else {
            format!("'stick-table': unknown data type '{name}'.")
        }
    })?;
    match (data.is_rate(), period) {
        (true, None) => Err(format!("'stick-table': data type '{name}' expects a period, e.g. '{name}(10s)'.")),
        (true, Some(p)) if p.is_zero() => Err(format!("'stick-table': '{item}': the period must not be 0.")),
        (false, Some(_)) => Err(format!("'stick-table': data type '{name}' takes no period.")),
        _ => Ok(StickStore { data, period }),
    }
}
