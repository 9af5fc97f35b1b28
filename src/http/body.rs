//! Body framing: content-length, chunked and until-close bodies passed through unchanged while their end is
//! tracked, with bounded memory (no body is ever buffered whole).
