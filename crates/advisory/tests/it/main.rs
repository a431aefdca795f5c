//! Integration tests of rampart-advisory: snapshots, schema validation, CSAF mandatory
//! tests and properties. One test binary keeps the build short.

mod csaf;
mod fixtures;
mod osv;
mod props;
mod schema;
