//! End-to-end tests: the real Worker in workerd under `wrangler dev`, real Durable Object
//! storage, real HTTP, with fake upstreams on loopback. One test binary so the Worker is
//! built once and the dependencies are linked once.

mod support;

mod agent_llm;
mod bench;
mod browser;
mod fakes_selftest;
mod faults;
mod foundation;
mod openapi;
mod schemathesis;
mod sessions;
mod tags_api;
