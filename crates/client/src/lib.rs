//! The Mocha client library: everything that talks to a Mocha server goes through here.
//!
//! - [`Trust`]: which certificate authorities to accept (the system's, plus extras
//!   such as a server's development CA). There is no "accept anything" mode.
//! - [`PassportClient`]: the Passport HTTPS API, one method per endpoint.
//! - [`ns::NsConnection`]: a Notification Server session over MENP/1.

mod error;
pub mod ns;
mod passport;
mod trust;

pub use error::ClientError;
pub use mocha_api as api;
pub use mocha_proto as proto;
pub use passport::PassportClient;
pub use trust::Trust;
