//! Fetching an issuer's Token Status List over HTTPS, for the protocol's revocation check:
//! https only (also for loopback: tests serve theirs over TLS with a CA that `SSL_CERT_FILE`
//! names, which the native-roots TLS of reqwest honours in place of the system's roots), no
//! redirect, a size cap and a timeout, so that a credential naming a slow or endless status
//! URI cannot hold a request.

use std::time::Duration;

use super::protocol::{StatusFetchError, StatusListSource};

/// The largest status list token accepted (the swiyu lists are compressed bit strings of a
/// few kilobytes).
pub const MAX_STATUS_LIST_BYTES: usize = 2 * 1024 * 1024;
/// How long one fetch may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Status lists over HTTPS.
#[derive(Clone)]
pub struct HttpsStatusSource {
    client: reqwest::Client,
}

impl HttpsStatusSource {
    pub fn new() -> Result<Self, StatusFetchError> {
        let client = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .user_agent(concat!("transfer-desk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| StatusFetchError(format!("cannot set up HTTPS: {error}")))?;
        Ok(Self { client })
    }
}

impl StatusListSource for HttpsStatusSource {
    async fn fetch(&self, uri: &str) -> Result<String, StatusFetchError> {
        if !uri.starts_with("https://") {
            return Err(StatusFetchError(
                "the status list is not at an https:// address".into(),
            ));
        }
        let failed = |error: reqwest::Error| StatusFetchError(error.without_url().to_string());
        let mut response = self
            .client
            .get(uri)
            .header("Accept", "application/statuslist+jwt")
            .send()
            .await
            .map_err(failed)?;
        if !response.status().is_success() {
            return Err(StatusFetchError(format!(
                "the status list server answered {}",
                response.status()
            )));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_STATUS_LIST_BYTES as u64)
        {
            return Err(StatusFetchError("the status list is too large".into()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_STATUS_LIST_BYTES {
                return Err(StatusFetchError("the status list is too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| StatusFetchError("the status list is not text".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_https_addresses_are_fetched() {
        let source = HttpsStatusSource::new().unwrap();
        for uri in ["http://127.0.0.1:9/list", "file:///etc/passwd", "ftp://x/y"] {
            let refused = source.fetch(uri).await.unwrap_err();
            assert!(refused.0.contains("https"), "{uri}: {refused}");
        }
    }
}
