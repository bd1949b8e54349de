//! The judge feed now lives in the library, as `faultline::testing` (so a
//! protocol in its own crate can use it too); the `judge_*` tests still
//! reach it as `mod feed`.
#![allow(unused_imports)]

pub use faultline::testing::*;
