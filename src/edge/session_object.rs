//! The session Durable Object: one per conversation, SQLite storage.

use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State};

#[durable_object]
pub struct InspireSession {
    #[allow(dead_code)]
    sql: SqlStorage,
}

impl DurableObject for InspireSession {
    fn new(state: State, _env: Env) -> Self {
        Self {
            sql: state.storage().sql(),
        }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        Response::error("not implemented", 501)
    }
}
