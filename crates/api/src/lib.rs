//! The JSON shapes of Mocha's HTTP API, shared by the Passport server and every client.
//!
//! Pure data: serde types and nothing else. With the `openapi` feature each type
//! also describes itself for the generated OpenAPI document.

mod accounts;
mod admin;
mod contacts;
mod errors;
mod service;
mod sync;

pub use accounts::*;
pub use admin::*;
pub use contacts::*;
pub use errors::*;
pub use mocha_auth::UserId;
pub use service::*;
pub use sync::*;
pub use time::OffsetDateTime;

/// Timestamps travel as RFC 3339 strings.
pub mod timestamp {
    pub use time::serde::rfc3339::{deserialize, option, serialize};
}
