//! The steps of a session's journey that are proxy logic rather than I/O: each in a module named for it, none
//! doing a syscall (the worker's event loop and [`crate::transport`] do those).
//!
//! - [`term`]: how a session ended, typed (cause and stage), shown as HAProxy's two letters.

pub mod term;
