//! `userlist` sections: users, their passwords and groups, for `http_auth`.

use super::*;

/// A `userlist` section.
#[derive(Debug, Clone, Default)]
pub struct Userlist {
    pub pos: Pos,
    pub name: String,
    pub groups: Vec<(String, Vec<String>)>,
    /// (user, password or crypt hash, insecure?, groups)
    pub users: Vec<UserEntry>,
}

/// One `user NAME password|insecure-password X [groups a,b]`.
#[derive(Debug, Clone, Default)]
pub struct UserEntry {
    pub name: String,
    pub password: String,
    pub insecure: bool,
    pub groups: Vec<String>,
}
