//! Stick tables as configured: the data types a table stores (`store …`), the table, and `stick` rules.

use super::*;

/// A data type a stick table stores (`store …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StickData {
    ServerId,
    Gpt0,
    Gpc0,
    Gpc0Rate,
    ConnCnt,
    ConnCur,
    ConnRate,
    SessCnt,
    SessRate,
    HttpReqCnt,
    HttpReqRate,
    HttpErrCnt,
    HttpErrRate,
    BytesInCnt,
    BytesOutCnt,
}

impl StickData {
    /// Every data type, in the order of [`StickData::name`].
    pub const ALL: [StickData; 15] = [
        StickData::ServerId,
        StickData::Gpt0,
        StickData::Gpc0,
        StickData::Gpc0Rate,
        StickData::ConnCnt,
        StickData::ConnCur,
        StickData::ConnRate,
        StickData::SessCnt,
        StickData::SessRate,
        StickData::HttpReqCnt,
        StickData::HttpReqRate,
        StickData::HttpErrCnt,
        StickData::HttpErrRate,
        StickData::BytesInCnt,
        StickData::BytesOutCnt,
    ];

    /// The name HAProxy's `store` uses.
    pub fn name(self) -> &'static str {
        match self {
            StickData::ServerId => "server_id",
            StickData::Gpt0 => "gpt0",
            StickData::Gpc0 => "gpc0",
            StickData::Gpc0Rate => "gpc0_rate",
            StickData::ConnCnt => "conn_cnt",
            StickData::ConnCur => "conn_cur",
            StickData::ConnRate => "conn_rate",
            StickData::SessCnt => "sess_cnt",
            StickData::SessRate => "sess_rate",
            StickData::HttpReqCnt => "http_req_cnt",
            StickData::HttpReqRate => "http_req_rate",
            StickData::HttpErrCnt => "http_err_cnt",
            StickData::HttpErrRate => "http_err_rate",
            StickData::BytesInCnt => "bytes_in_cnt",
            StickData::BytesOutCnt => "bytes_out_cnt",
        }
    }

    /// The data type named `name` (`http_req_rate`).
    pub fn from_name(name: &str) -> Option<StickData> {
        StickData::ALL.into_iter().find(|d| d.name() == name)
    }

    /// A frequency counter over a period (`…_rate(P)`).
    pub fn is_rate(self) -> bool {
        self.name().ends_with("_rate")
    }
}

/// One `store` item: a data type and, for rates, its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StickStore {
    pub data: StickData,
    pub period: Option<Duration>,
}

/// `stick-table` + `stick on|match|store-request`.
#[derive(Debug, Clone)]
pub struct StickConf {
    pub pos: Pos,
    /// `type ip|ipv6|integer|string|binary`.
    pub table_type: String,
    pub len: Option<usize>,
    pub size: u64,
    pub expire: Option<Duration>,
    pub nopurge: bool,
    /// `store TYPE[(PERIOD)],…` data types (several `store` words add up).
    pub store: Vec<StickStore>,
    /// `stick on|match|store-request EXPR [table T] [if COND]` lines.
    pub rules: Vec<StickRule>,
}

/// One `stick …` line.
#[derive(Debug, Clone)]
pub struct StickRule {
    pub pos: Pos,
    /// `on`, `match`, `store-request`, `store-response`.
    pub kind: String,
    /// The sample expression as written (`src`, `req.cook(JSESSIONID)`).
    pub expr: String,
    pub table: Option<String>,
    pub cond: Option<Cond>,
}
