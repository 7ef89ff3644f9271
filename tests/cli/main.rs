//! Black-box tests: the real `muster` binary on temporary database files, as a user runs it.

mod audit;
mod demo;
mod harness;
mod identity;
mod imports;
mod schema;
