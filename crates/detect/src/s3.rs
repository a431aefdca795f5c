//! S3 input (feature `s3`): lists the log objects under an `s3://bucket/prefix`
//! and fetches them, for the engine to read as it reads files.
//!
//! The client is `object_store`'s S3 store (signing with ring, TLS with
//! rustls). It is asynchronous; this module keeps a small tokio runtime of
//! its own and offers blocking calls, so the engine and the command stay
//! synchronous and the crate needs neither tokio nor HTTP without the
//! feature.
//!
//! Credentials, in the AWS CLI's order: `AWS_ACCESS_KEY_ID`/
//! `AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`; then the profile
//! `AWS_PROFILE` (or `default`) of the shared config and credentials files,
//! followed through [`credentials`] (a role assumed through STS, chained
//! from its `source_profile` or `credential_source`; a web identity token
//! file; static keys; `credential_process`), refreshed before temporary
//! credentials expire; then what `object_store` finds by itself (web
//! identity token from the environment, ECS container credentials, the EC2
//! instance metadata service).

pub mod credentials;

pub use credentials::{AwsCredentials, AwsEnvironment, CredentialError, parse_ini};

use credentials::{ProfileChain, RefreshingCredentials, SharedFiles};
use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as StorePath;
use object_store::{ClientConfigKey, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use std::sync::Arc;
use std::time::Duration;

/// Where and how to reach S3 beyond what the environment says.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// An S3-compatible endpoint (`http://127.0.0.1:5055`, MinIO, moto…);
    /// overrides `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
    /// Overrides `AWS_REGION`/`AWS_DEFAULT_REGION` and the profile's region.
    pub region: Option<String>,
    /// Explicit static credentials (access key id, secret, session token),
    /// ahead of the environment: for tools and tests, which cannot change
    /// the process environment safely.
    pub credentials: Option<(String, String, Option<String>)>,
}

/// One object found under the prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// `s3://bucket/key`: the "file name" used in diagnostics and for the
    /// account/region hints of the `AWSLogs/…` layout.
    pub name: String,
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
}

impl ObjectInfo {
    /// What tells one version of the object from another, for checkpoints.
    pub fn identity(&self) -> String {
        match &self.etag {
            Some(e) => format!("etag:{} size:{}", e.trim_matches('"'), self.size),
            None => format!("size:{}", self.size),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("{0} is not an S3 location: write s3://bucket or s3://bucket/prefix")]
    BadUrl(String),
    #[error("could not start the S3 client: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("could not set up the S3 client for {url}: {message}")]
    Config { url: String, message: String },
    /// Not marked as the source: the message already holds it, and error
    /// chains (anyhow's `{:#}`) would say it twice.
    #[error("could not get AWS credentials: {0}")]
    Credentials(CredentialError),
    #[error("{what} {url} failed: {message}")]
    Request {
        what: &'static str,
        url: String,
        message: String,
    },
}

impl From<CredentialError> for S3Error {
    fn from(e: CredentialError) -> Self {
        S3Error::Credentials(e)
    }
}

/// A bucket and prefix to read log objects from.
pub struct S3Source {
    rt: tokio::runtime::Runtime,
    store: AmazonS3,
    bucket: String,
    /// Without leading or trailing `/`; empty for the whole bucket.
    prefix: String,
    endpoint: Option<String>,
    /// Where the credentials came from, in words (`None`: object_store's
    /// own chain, or the environment's keys).
    credentials_origin: Option<String>,
}

impl std::fmt::Debug for S3Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Source({})", self.url())
    }
}

/// Splits `s3://bucket/prefix` into bucket and prefix (slashes trimmed).
pub fn parse_url(url: &str) -> Result<(String, String), S3Error> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| S3Error::BadUrl(url.to_owned()))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    // Bucket names are 3–63 of lowercase letters, digits, dots and hyphens.
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !ok {
        return Err(S3Error::BadUrl(url.to_owned()));
    }
    Ok((bucket.to_owned(), prefix.trim_matches('/').to_owned()))
}

/// A plain-English reason for an S3 failure, with what to do about it.
fn explain(e: &object_store::Error, endpoint: Option<&str>) -> String {
    match e {
        object_store::Error::NotFound { .. } => format!(
            "not found ({e}); check the bucket name, the prefix and the region (--s3-region)"
        ),
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => {
            format!(
                "access denied ({e}); give credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) allowed s3:ListBucket and s3:GetObject"
            )
        }
        _ => {
            let text = e.to_string();
            let lower = text.to_ascii_lowercase();
            if lower.contains("connect") || lower.contains("dns") || lower.contains("timed out") {
                format!(
                    "{text}; check the network and the endpoint ({})",
                    endpoint.unwrap_or("AWS's, for the region; --s3-endpoint overrides it")
                )
            } else if lower.contains("accessdenied")
                || lower.contains("signaturedoesnotmatch")
                || lower.contains("invalidaccesskeyid")
                || lower.contains("403")
            {
                format!(
                    "{text}; check the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE) and the region"
                )
            } else if lower.contains("nosuchbucket") || lower.contains("404") {
                format!("{text}; check the bucket name and the region (--s3-region)")
            } else {
                text
            }
        }
    }
}

impl S3Source {
    /// Sets up a client for `url` (`s3://bucket/prefix`) with the process
    /// environment's AWS settings; makes no S3 request yet (a profile that
    /// assumes a role calls STS, a `credential_process` runs).
    pub fn open(url: &str, opts: &S3Options) -> Result<Self, S3Error> {
        Self::open_in(url, opts, &AwsEnvironment::from_process())
    }

    /// [`S3Source::open`] with the AWS settings of `aws_env` for the
    /// credential chain, the region and the endpoints.
    pub fn open_in(url: &str, opts: &S3Options, aws_env: &AwsEnvironment) -> Result<Self, S3Error> {
        let (bucket, prefix) = parse_url(url)?;
        // reqwest is built without a TLS provider of its own (the "aws"
        // feature would bring aws-lc-rs); ring's is installed for the
        // process. Already installed (a second source) is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // The environment's keys come first, unless a profile was chosen
        // outright (the AWS CLI's `--profile` drops them too).
        let env_keys = if aws_env.profile_is_chosen() {
            None
        } else {
            aws_env.static_credentials()
        };
        let explicit_profile = aws_env.profile();
        let profile_name = explicit_profile.unwrap_or("default").to_owned();
        // The files are read only when something in them is needed.
        let files = if (opts.credentials.is_none() && env_keys.is_none()) || opts.region.is_none() {
            SharedFiles::from_environment(aws_env)?
        } else {
            SharedFiles::default()
        };
        let region = opts
            .region
            .clone()
            .or_else(|| aws_env.get("AWS_REGION").map(str::to_owned))
            .or_else(|| aws_env.get("AWS_DEFAULT_REGION").map(str::to_owned))
            .or_else(|| files.region(&profile_name).map(str::to_owned))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let endpoint = opts
            .endpoint
            .clone()
            .or_else(|| aws_env.get("AWS_ENDPOINT_URL_S3").map(str::to_owned))
            .or_else(|| aws_env.get("AWS_ENDPOINT_URL").map(str::to_owned))
            .or_else(|| aws_env.get("AWS_ENDPOINT").map(str::to_owned));
        // The profile's chain, unless credentials were given outright.
        let from_profile = if opts.credentials.is_none() && env_keys.is_none() {
            let chain = ProfileChain::new(aws_env.clone(), files, &region);
            chain
                .resolve(&profile_name, explicit_profile.is_some())?
                .map(|resolved| (chain, resolved))
        } else {
            None
        };
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&bucket)
            .with_region(&region);
        // A wrong endpoint should fail in seconds, not after object_store's
        // default three minutes of retries.
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            ..Default::default()
        };
        // As config keys, not `with_client_options`, which would replace
        // what the environment set (AWS_ALLOW_HTTP, proxies).
        b = b
            .with_retry(retry)
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                "5s",
            )
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), "120s");
        if let Some(ep) = &endpoint {
            // Both keys: from_env's AWS_ENDPOINT_URL_S3 would otherwise win.
            b = b
                .with_endpoint(ep)
                .with_config(AmazonS3ConfigKey::S3Endpoint, ep)
                .with_allow_http(ep.starts_with("http://"));
        }
        let mut credentials_origin = None;
        let given = opts
            .credentials
            .clone()
            .or_else(|| env_keys.map(|c| (c.access_key_id, c.secret_access_key, c.session_token)));
        if let Some((id, secret, token)) = &given {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
            if let Some(t) = token {
                b = b.with_token(t);
            }
        } else if let Some((chain, resolved)) = from_profile {
            credentials_origin = Some(resolved.origin);
            b = b.with_credentials(Arc::new(RefreshingCredentials::new(
                chain,
                &profile_name,
                resolved.credentials,
            )));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("rampart-s3")
            .enable_all()
            .build()
            .map_err(S3Error::Runtime)?;
        let store = {
            let _guard = rt.enter();
            b.build().map_err(|e| S3Error::Config {
                url: url.to_owned(),
                message: e.to_string(),
            })?
        };
        Ok(S3Source {
            rt,
            store,
            bucket,
            prefix,
            endpoint,
            credentials_origin,
        })
    }

    /// Where the credentials came from, when a profile gave them
    /// (`profile reader: role arn:… assumed with profile base`).
    pub fn credentials_origin(&self) -> Option<&str> {
        self.credentials_origin.as_deref()
    }

    /// The credentials requests are signed with now (refreshed first when
    /// they are temporary and near their expiry).
    pub fn current_credentials(&self) -> Result<AwsCredentials, S3Error> {
        let provider = Arc::clone(self.store.credentials());
        let c = self
            .rt
            .block_on(provider.get_credential())
            .map_err(|e| S3Error::Request {
                what: "getting credentials for",
                url: self.url(),
                message: e.to_string(),
            })?;
        Ok(AwsCredentials {
            access_key_id: c.key_id.clone(),
            secret_access_key: c.secret_key.clone(),
            session_token: c.token.clone(),
            expires: None,
        })
    }

    /// `s3://bucket/prefix`, as given (normalised).
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    /// The name an object goes by in reports: `s3://bucket/key`.
    pub fn name_of(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// The key of a name made by [`S3Source::name_of`].
    pub fn key_of<'n>(&self, name: &'n str) -> &'n str {
        name.strip_prefix("s3://")
            .and_then(|r| r.strip_prefix(self.bucket.as_str()))
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(name)
    }

    fn err(&self, what: &'static str, url: String, e: &object_store::Error) -> S3Error {
        let mut message = explain(e, self.endpoint.as_deref());
        // An access problem with a profile's credentials: say which
        // profile and role they were, the first thing to check.
        if let Some(origin) = &self.credentials_origin
            && message.contains("credentials")
        {
            message.push_str(&format!(" (the credentials in use: {origin})"));
        }
        S3Error::Request { what, url, message }
    }

    /// Every object under the prefix (a folder: `s3://b/AWSLogs/1` does not
    /// match `AWSLogs/123…`), sorted by key; when nothing is under it and the
    /// prefix is itself an object's key, that one object.
    pub fn list(&self) -> Result<Vec<ObjectInfo>, S3Error> {
        let prefix = (!self.prefix.is_empty()).then(|| StorePath::from(self.prefix.as_str()));
        let mut metas: Vec<object_store::ObjectMeta> = self
            .rt
            .block_on(self.store.list(prefix.as_ref()).try_collect())
            .map_err(|e| self.err("listing", self.url(), &e))?;
        if metas.is_empty()
            && let Some(p) = &prefix
        {
            match self.rt.block_on(self.store.head(p)) {
                Ok(m) => metas.push(m),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.err("reading", self.url(), &e)),
            }
        }
        let mut out: Vec<ObjectInfo> = metas
            .into_iter()
            .filter(|m| !m.location.as_ref().ends_with('/'))
            .map(|m| {
                let key = m.location.as_ref().to_owned();
                ObjectInfo {
                    name: self.name_of(&key),
                    key,
                    size: m.size,
                    etag: m.e_tag,
                }
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn path(key: &str) -> StorePath {
        // Keys from a listing are valid paths as they are; anything else is
        // encoded part by part.
        StorePath::parse(key).unwrap_or_else(|_| StorePath::from(key))
    }

    /// The object's bytes, as stored (gzip is undone by the engine).
    pub fn get(&self, key: &str) -> Result<Vec<u8>, S3Error> {
        let path = Self::path(key);
        self.rt
            .block_on(async {
                let r = self.store.get(&path).await?;
                r.bytes().await
            })
            .map(|b| b.to_vec())
            .map_err(|e| self.err("reading", self.name_of(key), &e))
    }

    /// Stores an object (used by tests and tools that seed a bucket).
    pub fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), S3Error> {
        let path = Self::path(key);
        self.rt
            .block_on(self.store.put(&path, PutPayload::from(bytes)))
            .map(|_| ())
            .map_err(|e| self.err("writing", self.name_of(key), &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("s3://my-logs/AWSLogs/123/").expect("ok"),
            ("my-logs".into(), "AWSLogs/123".into())
        );
        assert_eq!(
            parse_url("s3://my-logs").expect("ok"),
            ("my-logs".into(), String::new())
        );
        for bad in ["s3://", "s3://A_B/x", "https://b/x", "s3://ab"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn profiles_from_shared_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let creds = dir.path().join("credentials");
        let config = dir.path().join("config");
        std::fs::write(
            &creds,
            "# keys\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key=s1\n\n[audit]\naws_access_key_id = AKIAAUDIT\naws_secret_access_key = s2\naws_session_token = tok\n",
        )
        .expect("write");
        std::fs::write(
            &config,
            "[default]\nregion = eu-west-1\n[profile audit]\nregion = us-west-2\naws_access_key_id = AKIAIGNORED\n",
        )
        .expect("write");
        let files = SharedFiles::load(Some(&config), Some(&creds)).expect("load");
        assert_eq!(files.get("audit", "aws_access_key_id"), Some("AKIAAUDIT"));
        assert_eq!(files.get("audit", "aws_session_token"), Some("tok"));
        assert_eq!(files.region("audit"), Some("us-west-2"));
        assert_eq!(files.region("default"), Some("eu-west-1"));
        assert_eq!(files.get("default", "aws_session_token"), None);
        let none = SharedFiles::load(Some(&dir.path().join("missing")), None).expect("load");
        assert!(!none.has_profile("default"));
        // A file that exists but cannot be read is an error, not "no profile".
        let e = SharedFiles::load(Some(dir.path()), None).expect_err("a directory");
        assert!(
            e.to_string().contains("could not read the AWS config file"),
            "{e}"
        );
    }

    #[test]
    fn identities_tell_versions_apart() {
        let a = ObjectInfo {
            name: "s3://b/k".into(),
            key: "k".into(),
            size: 3,
            etag: Some("\"abc\"".into()),
        };
        let mut b = a.clone();
        b.etag = Some("\"abd\"".into());
        assert_eq!(a.identity(), "etag:abc size:3");
        assert_ne!(a.identity(), b.identity());
    }
}
