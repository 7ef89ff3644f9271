//! Data in and out of muster: CSV imports (checked for form here, for references in `app`) and,
//! later, the exports funders ask for.

pub mod import;
