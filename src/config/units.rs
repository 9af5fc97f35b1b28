//! Time and size units of HAProxy's config language.
