//! The seed: `POST /json_rpc` with `get_n_service_nodes`, on plain HTTP. With `active_only`, a
//! stopped node is left out, as the real network leaves out a decommissioned one; a node killed
//! while listed stays, as a node that has just died stays in the real network's list.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::network::Network;

/// The seed's routes.
pub fn router(network: Arc<Network>) -> Router {
    Router::new().route("/json_rpc", post(json_rpc)).fallback(|| async { StatusCode::NOT_FOUND }).with_state(network)
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

async fn json_rpc(State(network): State<Arc<Network>>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        let error = json!({ "jsonrpc": "2.0", "id": null, "error": { "code": -32700, "message": "Parse error" } });
        return json_response(StatusCode::BAD_REQUEST, &error);
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    match request.get("method").and_then(Value::as_str) {
        Some("get_n_service_nodes") | Some("get_service_nodes") => {
            let params = request.get("params");
            let limit = params
                .and_then(|p| p.get("limit"))
                .and_then(Value::as_u64)
                .map_or(usize::MAX, |l| if l == 0 { usize::MAX } else { usize::try_from(l).unwrap_or(usize::MAX) });
            let mut states = network.service_node_states(params);
            states.truncate(limit);
            let result = json!({ "service_node_states": states, "height": 1, "status": "OK" });
            json_response(StatusCode::OK, &json!({ "jsonrpc": "2.0", "id": id, "result": result }))
        }
        _ => {
            let error =
                json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32601, "message": "Method not found" } });
            json_response(StatusCode::OK, &error)
        }
    }
}
