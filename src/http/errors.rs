//! HAProxy's default error pages (2.6 bytes, HAPROXY-FACTS §5.1) and `errorfile` replacements.
