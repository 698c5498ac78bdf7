//! The harnesses behind the fuzz targets in `fuzz_targets/`, kept in a library so each target
//! is one call and a crash's input can be replayed from a plain test.
#![deny(missing_docs)]

pub mod front;
pub mod hostcalls;
