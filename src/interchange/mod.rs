//! Data in and out of muster: CSV imports (checked for form here, for references in `app`) and
//! exports, streamed into a file that appears only when whole.

pub mod export;
pub mod funder;
pub mod import;
pub mod pdf;
