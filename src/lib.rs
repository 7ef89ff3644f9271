//! muster: a terminal console for workforce-training organisations and their partners.
//!
//! The library is the product; the command line (`cli`) and, later, the console are two faces
//! of it. Arrows point down only: `cli` → `app` → `store` → `domain`; `engine`, `interchange` and `mail` → `app`.

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod engine;
pub mod interchange;
pub mod mail;
pub mod store;
pub mod sync;
pub mod tui;
