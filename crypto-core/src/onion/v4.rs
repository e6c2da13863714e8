//! v4 onion payloads for servers: a bencoded list of byte strings.
//! Request: `l <len>:<metadata JSON> [<len>:<body>] e`; response: `l <len>:<metadata> <len>:<body> e`.

use serde_json::Value;

/// A server's reply.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Response {
    /// The HTTP-like status (`code` in the metadata).
    pub code: u16,
    /// The metadata object (code, headers).
    pub metadata: serde_json::Map<String, Value>,
    /// The body bytes.
    pub body: Vec<u8>,
}

fn push_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(bytes.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(bytes);
}

/// Encodes a v4 request: `metadata` is the JSON text (method, endpoint, headers); `body` only for
/// requests that have one.
pub fn encode_request(metadata: &str, body: Option<&[u8]>) -> Vec<u8> {
    let Some(body) = body else {
        let mut out = Vec::with_capacity(metadata.len() + 16);
        out.push(b'l');
        push_string(&mut out, metadata.as_bytes());
        out.push(REQUEST_END);
        return out;
    };
    let mut out = request_head(metadata, body.len());
    out.extend_from_slice(body);
    out.push(REQUEST_END);
    out
}

/// The start of a v4 request whose body, `body_len` bytes, the caller appends, then
/// [`REQUEST_END`]: for a large body read piece by piece, so that it is held once.
pub fn request_head(metadata: &str, body_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(metadata.len() + body_len + 24);
    out.push(b'l');
    push_string(&mut out, metadata.as_bytes());
    out.extend_from_slice(body_len.to_string().as_bytes());
    out.push(b':');
    out
}

/// The last byte of a v4 request (see [`request_head`]).
pub const REQUEST_END: u8 = b'e';

/// Splits a bencoded list of byte strings.
pub fn decode_list(data: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    let mut rest = data.strip_prefix(b"l").ok_or("not a bencoded list")?;
    let mut items = Vec::new();
    loop {
        match rest.first() {
            Some(b'e') if rest.len() == 1 => return Ok(items),
            Some(b'e') => return Err("trailing bytes after the list"),
            Some(_) => {}
            None => return Err("unterminated list"),
        }
        let colon = rest.iter().position(|&b| b == b':').ok_or("missing string length")?;
        let (digits, after) = rest.split_at(colon);
        if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
            return Err("invalid string length");
        }
        let len: usize =
            core::str::from_utf8(digits).ok().and_then(|d| d.parse().ok()).ok_or("invalid string length")?;
        let after = after.get(1..).ok_or("missing string")?;
        if after.len() < len {
            return Err("string longer than the data");
        }
        let (item, tail) = after.split_at(len);
        items.push(item);
        rest = tail;
    }
}

/// Decodes a v4 response into its metadata and body.
pub fn decode_response(data: &[u8]) -> Result<Response, &'static str> {
    decode_response_owned(data.to_vec())
}

/// [`decode_response`] of an owned reply: the body is cut out of it in place, not copied (a
/// file's download is held once).
pub fn decode_response_owned(mut data: Vec<u8>) -> Result<Response, &'static str> {
    let (code, metadata, range) = {
        let items = decode_list(&data)?;
        let (meta, body) = match items.as_slice() {
            [meta] => (*meta, None),
            [meta, body] => (*meta, Some(*body)),
            _ => return Err("a v4 response has one or two parts"),
        };
        let Ok(Value::Object(metadata)) = serde_json::from_slice::<Value>(meta) else {
            return Err("v4 metadata is not a JSON object");
        };
        let code = metadata
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .ok_or("v4 metadata has no code")?;
        // Where the body lies in `data` (it is a part of it).
        let range = body.map(|b| {
            let start = (b.as_ptr() as usize).saturating_sub(data.as_ptr() as usize);
            start..start + b.len()
        });
        (code, metadata, range)
    };
    let body = match range {
        Some(range) => {
            data.truncate(range.end);
            data.drain(..range.start);
            data
        }
        None => Vec::new(),
    };
    Ok(Response { code, metadata, body })
}

/// A v4 request as a server sees it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Request {
    /// The metadata object (`method`, `endpoint`, `headers`).
    pub metadata: serde_json::Map<String, Value>,
    /// The body, for requests that have one.
    pub body: Option<Vec<u8>>,
}

/// Decodes a v4 request (the server's side): one or two strings, the first a JSON object with a
/// string `method` and an `endpoint` starting with `/`.
pub fn decode_request(data: &[u8]) -> Result<Request, &'static str> {
    let items = decode_list(data)?;
    let (meta, body) = match items.as_slice() {
        [meta] => (*meta, None),
        [meta, body] => (*meta, Some(body.to_vec())),
        _ => return Err("a v4 request has one or two parts"),
    };
    let Ok(Value::Object(metadata)) = serde_json::from_slice::<Value>(meta) else {
        return Err("v4 metadata is not a JSON object");
    };
    if metadata.get("method").and_then(Value::as_str).is_none() {
        return Err("v4 metadata has no method");
    }
    if !metadata.get("endpoint").and_then(Value::as_str).is_some_and(|e| e.starts_with('/')) {
        return Err("v4 metadata has no endpoint starting with '/'");
    }
    Ok(Request { metadata, body })
}

/// Encodes a v4 response (the server's side): `{"code", "headers"}` metadata and the body.
pub fn encode_response(code: u16, headers: &serde_json::Map<String, Value>, body: &[u8]) -> Vec<u8> {
    let metadata = serde_json::json!({ "code": code, "headers": headers }).to_string();
    let mut out = Vec::with_capacity(metadata.len() + body.len() + 16);
    out.push(b'l');
    push_string(&mut out, metadata.as_bytes());
    push_string(&mut out, body);
    out.push(b'e');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owned_response_reads_as_a_borrowed_one() {
        for data in [
            &br#"l16:{"code":200,"a":1}5:helloe"#[..],
            br#"l12:{"code":404}0:e"#,
            br#"l12:{"code":204}e"#,
            br#"l12:{"code":200}5:hello"#,
            br#"l3:abc5:helloe"#,
            b"",
        ] {
            assert_eq!(
                decode_response_owned(data.to_vec()),
                decode_response(data),
                "{}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn a_request_built_around_its_body_is_the_encoded_one() {
        let mut built = request_head(r#"{"method":"POST"}"#, 5);
        built.extend_from_slice(b"hello");
        built.push(REQUEST_END);
        assert_eq!(built, encode_request(r#"{"method":"POST"}"#, Some(b"hello")));
    }
}
