//! Inspire Edge: turns a feeling into an image prompt.
//!
//! The crate is a pure core (everything but `edge`) that compiles and is tested natively,
//! plus `edge`, the thin adapter to Cloudflare Workers that exists only on wasm32.
//! See `shared/STYLE.md` for the way a request travels.

pub mod agent;
pub mod api;
pub mod clock;
pub mod config;
pub mod conversation;
pub mod http;
pub mod ids;
pub mod lexicon;
pub mod llm;
pub mod moderation;
pub mod planner;
pub mod ratelimit;
pub mod recipes;
pub mod safety;
pub mod session;
pub mod sse;
pub mod tags;
pub mod tools;
pub mod transcript;

#[cfg(target_arch = "wasm32")]
mod edge;

/// The version reported by `/api/health`, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
