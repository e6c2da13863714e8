//! Request authentication: the `X-SOGS-*` headers (protocol-communities §2), checked in the real
//! server's order with its status codes and plain-text reasons. The header checks and the
//! signature are crypto-core's ([`crypto_core::community::auth`]); the ban list and the nonce
//! table in between are the server's.

use crypto_core::community::{AuthError, AuthPolicy, RequestAuth};
use rusqlite::{Connection, params};

use super::{Reply, User};
use crate::wsgi::Headers;

/// How far a request's timestamp may be from the server's clock (24 h).
pub const WINDOW_SECONDS: i64 = crypto_core::community::auth::MAX_CLOCK_SKEW_S;

/// What a request is, for its signature.
#[derive(Debug)]
pub struct Request<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// The URL-decoded path.
    pub path: &'a str,
    /// The query as sent (without `?`).
    pub query: &'a str,
    /// Request headers.
    pub headers: &'a Headers,
    /// The body.
    pub body: &'a [u8],
}

fn refused(e: AuthError) -> Reply {
    Reply::reason(e.status(), &e.message())
}

/// Checks the request's `X-SOGS-*` headers: `Ok(None)` when it has none (anonymous), the user when
/// they verify, else the real server's answer. Records the nonce (before the signature check, as
/// the real server does), creates the user on first sight, and touches its activity.
pub fn authenticate(
    db: &Connection,
    server_x25519: &[u8; 32],
    accept_unblinded: bool,
    request: &Request<'_>,
    now: f64,
) -> Result<Option<User>, Reply> {
    let policy = AuthPolicy { require_blinded: !accept_unblinded, ..AuthPolicy::default() };
    let headers = request.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let auth = match RequestAuth::parse(headers, now.floor() as i64, policy) {
        Ok(Some(auth)) => auth,
        Ok(None) => return Ok(None),
        Err(e) => return Err(refused(e)),
    };
    let internal = |_| Reply::internal();
    let session_id = auth.id().to_string();
    let user = super::db::user(db, &session_id, true, now).map_err(internal)?.ok_or_else(Reply::internal)?;
    if !accept_unblinded {
        super::db::claim_unblinded(db, server_x25519, &user).map_err(internal)?;
    }
    if super::db::globally_banned(db, user.id, now).map_err(internal)? {
        return Err(Reply::reason(403, "Banned"));
    }
    let inserted = db
        .execute(
            "INSERT INTO nonces (user, nonce, expiry) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![user.id, auth.nonce(), now + 2.0 * WINDOW_SECONDS as f64],
        )
        .map_err(internal)?;
    if inserted == 0 {
        return Err(refused(AuthError::NonceReused));
    }
    let signed_path =
        if request.query.is_empty() { request.path.to_owned() } else { format!("{}?{}", request.path, request.query) };
    auth.verify(server_x25519, request.method, &signed_path, request.body).map_err(refused)?;
    db.execute("UPDATE users SET last_active = ?2 WHERE id = ?1", params![user.id, now]).map_err(internal)?;
    Ok(Some(user))
}
