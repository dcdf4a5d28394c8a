//! The HTTP API's contract: routes, the one error shape, and response bodies.
//! Pure: no `worker` types, so every rule here is tested natively.

pub mod error;
pub mod health;
pub mod inspire;
pub mod openapi;
pub mod route;
pub mod tags;

pub use error::ApiError;
pub use route::{route, Route};
