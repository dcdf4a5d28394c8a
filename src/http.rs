//! The HTTP port: the core describes requests and reads responses; the Worker adapter sends
//! them with `fetch` (and enforces the timeout), native tests answer them with fakes.

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The sender gives up after this long and answers `HttpError::Timeout`.
    pub timeout_ms: u64,
}

impl HttpRequest {
    pub fn get(url: String, timeout_ms: u64) -> Self {
        HttpRequest {
            method: "GET",
            url,
            headers: Vec::new(),
            body: None,
            timeout_ms,
        }
    }
    pub fn post_json(url: String, body: &serde_json::Value, timeout_ms: u64) -> Self {
        HttpRequest {
            method: "POST",
            url,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(body.to_string()),
            timeout_ms,
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum HttpError {
    Timeout,
    Network(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Timeout => f.write_str("timed out"),
            HttpError::Network(e) => write!(f, "network error: {e}"),
        }
    }
}

#[allow(async_fn_in_trait)]
pub trait HttpSend {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError>;
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_encoding() {
        assert_eq!(super::percent_encode("a b+c(ç)"), "a%20b%2Bc%28%C3%A7%29");
        assert_eq!(super::percent_encode("long_hair-1.~"), "long_hair-1.~");
    }
}
