//! The `s3` document store: objects under a prefix of an S3-compatible bucket, through the
//! `object_store` crate. Endpoint, region and credentials come from the usual `AWS_*`
//! variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, …). An object appears
//! whole or not at all, so there are no partial writes to clean up.

use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{ClientConfigKey, ObjectStore as _, RetryConfig};

use super::SUFFIX;

#[derive(Clone)]
pub struct ObjectStore {
    bucket: String,
    prefix: Path,
    client: Arc<AmazonS3>,
}

impl std::fmt::Debug for ObjectStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn failed(error: object_store::Error) -> io::Error {
    match error {
        object_store::Error::NotFound { .. } => {
            io::Error::new(io::ErrorKind::NotFound, "no such document")
        }
        other => io::Error::other(other.to_string()),
    }
}

impl ObjectStore {
    pub fn from_env(bucket: &str, prefix: &str) -> io::Result<Self> {
        // A submission waits for its write: an unreachable store must fail it within
        // seconds, not after object_store's default three minutes of retries.
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(15),
            ..RetryConfig::default()
        };
        // Set key by key: `with_client_options` would drop what the environment set
        // (`AWS_ALLOW_HTTP` among them).
        let client = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(retry)
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                "5s",
            )
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), "60s")
            .build()
            .map_err(failed)?;
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: Path::from(prefix),
            client: Arc::new(client),
        })
    }

    fn path(&self, name: &str) -> Path {
        self.prefix.child(name)
    }

    pub fn describe(&self) -> String {
        format!("objects in s3://{}/{}", self.bucket, self.prefix)
    }

    pub async fn put(&self, name: &str, sealed: Vec<u8>) -> io::Result<()> {
        self.client
            .put(&self.path(name), sealed.into())
            .await
            .map_err(failed)?;
        Ok(())
    }

    pub async fn get(&self, name: &str) -> io::Result<Vec<u8>> {
        let found = self.client.get(&self.path(name)).await.map_err(failed)?;
        Ok(found.bytes().await.map_err(failed)?.to_vec())
    }

    pub async fn remove(&self, name: &str) -> io::Result<()> {
        match self.client.delete(&self.path(name)).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(error) => Err(failed(error)),
        }
    }

    /// Sealed documents directly under the prefix; anything else in the bucket is not ours.
    pub async fn entries_older_than(&self, cutoff: SystemTime) -> io::Result<Vec<String>> {
        let listed = self
            .client
            .list_with_delimiter(Some(&self.prefix))
            .await
            .map_err(failed)?;
        Ok(listed
            .objects
            .into_iter()
            .filter(|object| SystemTime::from(object.last_modified) <= cutoff)
            .filter_map(|object| object.location.filename().map(str::to_owned))
            .filter(|name| name.ends_with(SUFFIX) && super::check_name(name).is_ok())
            .collect())
    }

    /// Writes and removes a small object.
    pub async fn probe(&self) -> io::Result<()> {
        let probe = self.path(&format!("probe-{}", uuid::Uuid::new_v4().simple()));
        self.client
            .put(&probe, Vec::new().into())
            .await
            .map_err(failed)?;
        self.client.delete(&probe).await.map_err(failed)
    }
}
