//! The AWS credential chain of a profile, as the AWS CLI follows it:
//! static keys, roles assumed through STS (`role_arn` with `source_profile`
//! or `credential_source`, chained, with cycles refused), web identity
//! tokens named by the profile, and `credential_process`.
//!
//! STS is called directly (Query API, signed with `rampart-aws-sign`,
//! blocking `ureq` as the secrets scanner does): the AWS SDK would cost
//! minutes of build for two requests. Everything here is synchronous; the
//! S3 client refreshes credentials that expire through
//! [`RefreshingCredentials`], which runs the chain again on a blocking
//! thread.

use object_store::CredentialProvider;
use object_store::aws::AwsCredential;
use rampart_aws_sign::{
    FORM_CONTENT_TYPE, SigningInput, amz_date_now, canonical_path, form_encode, host_of, path_of,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// How many roles one profile may chain through (`source_profile` of a
/// `source_profile` …); the AWS CLI has no limit but refuses cycles, and
/// no real set-up needs more.
const MAX_CHAIN: usize = 8;

/// Credentials this close to their expiry are fetched again (the AWS CLI
/// refreshes assumed roles 15 minutes ahead and insists at 10), or half
/// their lifetime ahead when they live less than 20 minutes: five-minute
/// credentials would otherwise be "near expiry" from the start.
const REFRESH_AHEAD: time::Duration = time::Duration::minutes(10);

/// After a refresh fails while the credentials still work, the next try
/// waits this long: without it every S3 request would run the chain (STS,
/// a helper process) again, one at a time under the lock.
const RETRY_AFTER_FAILURE: time::Duration = time::Duration::minutes(1);

/// The AWS settings of the process environment: `AWS_*` variables and
/// `HOME`. A value of its own, so tests (and tools) can give one without
/// changing the environment of a running process.
#[derive(Clone, Default)]
pub struct AwsEnvironment {
    vars: BTreeMap<String, String>,
    /// A profile chosen by the caller, as the AWS CLI's `--profile`: it
    /// wins over `AWS_PROFILE` and over the environment's keys (which a
    /// role of the profile may still use through `credential_source =
    /// Environment`).
    chosen_profile: Option<String>,
}

impl std::fmt::Debug for AwsEnvironment {
    // Values such as AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN must stay
    // out of logs and panics (object_store's Debug prints its provider):
    // only the names of the variables set, the profile and the key id.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsEnvironment")
            .field("vars_set", &self.vars.keys().collect::<Vec<_>>())
            .field("profile", &self.profile())
            .field("access_key_id", &self.get("AWS_ACCESS_KEY_ID"))
            .finish_non_exhaustive()
    }
}

impl AwsEnvironment {
    /// `HOME` and every `AWS_*` variable of this process.
    pub fn from_process() -> Self {
        Self::from_vars(std::env::vars().filter(|(k, _)| k == "HOME" || k.starts_with("AWS_")))
    }

    /// Exactly these variables (empty values count as unset).
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        AwsEnvironment {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .filter(|(_, v)| !v.trim().is_empty())
                .collect(),
            chosen_profile: None,
        }
    }

    /// The same settings with `profile` chosen as `--profile` chooses it.
    pub fn with_profile(mut self, profile: &str) -> Self {
        self.chosen_profile = Some(profile.to_owned());
        self
    }

    /// Whether a profile was chosen with [`AwsEnvironment::with_profile`].
    pub fn profile_is_chosen(&self) -> bool {
        self.chosen_profile.is_some()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// The profile asked for ([`AwsEnvironment::with_profile`], else
    /// `AWS_PROFILE`), if one was.
    pub fn profile(&self) -> Option<&str> {
        self.chosen_profile
            .as_deref()
            .or_else(|| self.get("AWS_PROFILE"))
    }

    fn file(&self, var: &str, under_home: &str) -> Option<PathBuf> {
        self.get(var)
            .map(PathBuf::from)
            .or_else(|| self.get("HOME").map(|h| PathBuf::from(h).join(under_home)))
    }

    /// `AWS_CONFIG_FILE`, else `~/.aws/config`.
    pub fn config_file(&self) -> Option<PathBuf> {
        self.file("AWS_CONFIG_FILE", ".aws/config")
    }

    /// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    pub fn credentials_file(&self) -> Option<PathBuf> {
        self.file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")
    }

    /// STS's address when overridden: `AWS_ENDPOINT_URL_STS`, then
    /// `AWS_ENDPOINT_URL` (the AWS CLI's service-specific and global
    /// endpoint variables).
    pub fn sts_endpoint(&self) -> Option<&str> {
        self.get("AWS_ENDPOINT_URL_STS")
            .or_else(|| self.get("AWS_ENDPOINT_URL"))
    }

    /// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`.
    pub fn static_credentials(&self) -> Option<AwsCredentials> {
        Some(AwsCredentials {
            access_key_id: self.get("AWS_ACCESS_KEY_ID")?.trim().to_owned(),
            secret_access_key: self.get("AWS_SECRET_ACCESS_KEY")?.trim().to_owned(),
            session_token: self.get("AWS_SESSION_TOKEN").map(|t| t.trim().to_owned()),
            expires: None,
        })
    }
}

/// A key pair, with the session token and expiry of temporary ones.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// `None`: long-term keys, or a `credential_process` that gave no expiry.
    pub expires: Option<OffsetDateTime>,
}

impl std::fmt::Debug for AwsCredentials {
    // The secret and token stay out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("session_token", &self.session_token.as_ref().map(|_| "…"))
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl AwsCredentials {
    fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires.is_some_and(|t| t <= now)
    }

    fn to_object_store(&self) -> AwsCredential {
        AwsCredential {
            key_id: self.access_key_id.clone(),
            secret_key: self.secret_access_key.clone(),
            token: self.session_token.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("could not read the AWS config file {file}: {message}")]
    File { file: String, message: String },
    #[error(
        "the AWS profile {profile:?} is in neither {config} nor {credentials}; check AWS_PROFILE"
    )]
    ProfileNotFound {
        profile: String,
        config: String,
        credentials: String,
    },
    #[error("the AWS profile {profile:?} is not usable: {message}")]
    Config { profile: String, message: String },
    #[error(
        "the AWS profiles form a loop ({chain}): each source_profile must lead to one with credentials"
    )]
    Cycle { chain: String },
    #[error(
        "the AWS profile {profile:?} chains through more than {MAX_CHAIN} roles ({chain}); shorten the source_profile chain"
    )]
    TooDeep { profile: String, chain: String },
    #[error(
        "the AWS profile {profile:?} needs an MFA code (mfa_serial = {serial}), which rampart cannot ask for when it runs unattended; \
         get session credentials first (aws sts get-session-token or aws configure export-credentials --profile {profile} --format env) and pass them in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN"
    )]
    Mfa { profile: String, serial: String },
    #[error(
        "the AWS profile {profile:?} signs in with IAM Identity Center (SSO), which rampart does not do itself; \
         run `aws sso login --profile {profile}` then `eval \"$(aws configure export-credentials --profile {profile} --format env)\"`, \
         or give the profile credential_process = aws configure export-credentials --profile <an SSO profile> --format process"
    )]
    Sso { profile: String },
    #[error("the credential_process of the AWS profile {profile:?} failed: {message}")]
    Process { profile: String, message: String },
    #[error("the AWS profile {profile:?} could not assume {role_arn}: {message}")]
    Sts {
        profile: String,
        role_arn: String,
        message: String,
    },
    #[error(
        "the AWS profile {profile:?} takes its credentials from {source_name}, which gave none: {message}"
    )]
    Source {
        profile: String,
        source_name: String,
        message: String,
    },
}

type Section = BTreeMap<String, String>;

/// The sections of an AWS shared config or credentials file:
/// `[name]` or `[profile name]`, then `key = value` lines; `#`/`;` comments.
/// Indented lines under a key with no value (`s3 =` then `  max_… = 10`)
/// are that key's sub-settings, which no credential setting uses: skipped.
pub fn parse_ini(text: &str) -> BTreeMap<String, Section> {
    let mut out: BTreeMap<String, Section> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_nested = false;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            let name = name.strip_prefix("profile ").unwrap_or(name).trim();
            current = Some(name.to_owned());
            out.entry(name.to_owned()).or_default();
            in_nested = false;
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if in_nested && indented {
            continue;
        }
        if let (Some(section), Some((k, v))) = (&current, line.split_once('=')) {
            let value = v.trim();
            in_nested = value.is_empty();
            out.entry(section.clone())
                .or_default()
                .insert(k.trim().to_ascii_lowercase(), value.to_owned());
        }
    }
    out
}

/// The shared config and credentials files, read once.
#[derive(Clone, Default)]
pub struct SharedFiles {
    config: BTreeMap<String, Section>,
    credentials: BTreeMap<String, Section>,
    config_name: String,
    credentials_name: String,
}

impl std::fmt::Debug for SharedFiles {
    // The files hold secret keys and session tokens: only the profiles are
    // shown, each with its access key id when it has one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let profiles = |file: &BTreeMap<String, Section>| -> BTreeMap<String, Option<String>> {
            file.iter()
                .map(|(name, section)| (name.clone(), section.get("aws_access_key_id").cloned()))
                .collect()
        };
        f.debug_struct("SharedFiles")
            .field("config", &self.config_name)
            .field("config_profiles", &profiles(&self.config))
            .field("credentials", &self.credentials_name)
            .field("credentials_profiles", &profiles(&self.credentials))
            .finish()
    }
}

fn read_ini(path: Option<&std::path::Path>) -> Result<BTreeMap<String, Section>, CredentialError> {
    let Some(path) = path else {
        return Ok(BTreeMap::new());
    };
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_ini(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(CredentialError::File {
            file: path.display().to_string(),
            message: e.to_string(),
        }),
    }
}

impl SharedFiles {
    /// Reads both files; a missing one is empty.
    pub fn load(
        config: Option<&std::path::Path>,
        credentials: Option<&std::path::Path>,
    ) -> Result<Self, CredentialError> {
        let name = |p: Option<&std::path::Path>, default: &str| {
            p.map_or_else(|| default.to_owned(), |p| p.display().to_string())
        };
        Ok(SharedFiles {
            config: read_ini(config)?,
            credentials: read_ini(credentials)?,
            config_name: name(config, "~/.aws/config"),
            credentials_name: name(credentials, "~/.aws/credentials"),
        })
    }

    /// The files the environment names.
    pub fn from_environment(env: &AwsEnvironment) -> Result<Self, CredentialError> {
        Self::load(
            env.config_file().as_deref(),
            env.credentials_file().as_deref(),
        )
    }

    pub fn has_profile(&self, name: &str) -> bool {
        self.config.contains_key(name) || self.credentials.contains_key(name)
    }

    /// A setting of the profile: the credentials file wins, as in the AWS CLI.
    pub fn get(&self, profile: &str, key: &str) -> Option<&str> {
        [&self.credentials, &self.config]
            .into_iter()
            .filter_map(|f| f.get(profile)?.get(key))
            .map(String::as_str)
            .find(|v| !v.is_empty())
    }

    /// The profile's region (`region`).
    pub fn region(&self, profile: &str) -> Option<&str> {
        self.get(profile, "region")
    }

    fn static_keys_in(file: &BTreeMap<String, Section>, profile: &str) -> Option<AwsCredentials> {
        let s = file.get(profile)?;
        let get = |k: &str| s.get(k).filter(|v| !v.is_empty()).cloned();
        Some(AwsCredentials {
            access_key_id: get("aws_access_key_id")?,
            secret_access_key: get("aws_secret_access_key")?,
            session_token: get("aws_session_token"),
            expires: None,
        })
    }

    fn has_static_keys(&self, profile: &str) -> bool {
        self.get(profile, "aws_access_key_id").is_some()
    }
}

/// Where one profile's credentials come from, as the AWS CLI decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileKind {
    /// `role_arn` with `source_profile`, `credential_source` or
    /// `web_identity_token_file`.
    AssumeRole,
    /// `sso_session` or `sso_start_url`.
    Sso,
    /// `aws_access_key_id` and `aws_secret_access_key`.
    Static,
    /// `credential_process`.
    Process,
    /// Nothing: the rest of the chain (container, instance) decides.
    Nothing,
}

/// What the chain found for a profile, for messages and tests.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub credentials: AwsCredentials,
    /// In words: `profile reader: role arn:… assumed with profile base`.
    pub origin: String,
}

/// Follows a profile's chain: owns what it read, so the S3 client can run
/// it again when temporary credentials near their expiry.
#[derive(Clone)]
pub struct ProfileChain {
    env: AwsEnvironment,
    files: SharedFiles,
    /// The region STS is reached in (and signed for).
    region: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for ProfileChain {
    // By hand, so that only the redacted views of the environment and the
    // files are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileChain")
            .field("env", &self.env)
            .field("files", &self.files)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl ProfileChain {
    pub fn new(env: AwsEnvironment, files: SharedFiles, region: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(30)))
            .user_agent(concat!("rampart-detect/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        ProfileChain {
            env,
            files,
            region: region.to_owned(),
            agent,
        }
    }

    pub fn files(&self) -> &SharedFiles {
        &self.files
    }

    /// What kind of profile `name` is (its first matching setting, in the
    /// AWS CLI's order).
    pub fn kind(&self, name: &str) -> ProfileKind {
        let has = |k: &str| self.files.get(name, k).is_some();
        if has("role_arn") {
            ProfileKind::AssumeRole
        } else if has("sso_session") || has("sso_start_url") {
            ProfileKind::Sso
        } else if SharedFiles::static_keys_in(&self.files.credentials, name).is_some() {
            ProfileKind::Static
        } else if has("credential_process") {
            ProfileKind::Process
        } else if SharedFiles::static_keys_in(&self.files.config, name).is_some() {
            ProfileKind::Static
        } else {
            ProfileKind::Nothing
        }
    }

    /// The credentials of profile `name`, or `None` when the profile gives
    /// none itself (then the container and instance credentials apply, as
    /// in the AWS CLI). `explicit`: the profile was asked for by name, so
    /// its absence is an error rather than "no profile".
    pub fn resolve(&self, name: &str, explicit: bool) -> Result<Option<Resolved>, CredentialError> {
        if !self.files.has_profile(name) {
            if explicit {
                return Err(CredentialError::ProfileNotFound {
                    profile: name.to_owned(),
                    config: self.files.config_name.clone(),
                    credentials: self.files.credentials_name.clone(),
                });
            }
            return Ok(None);
        }
        let mut visited = vec![name.to_owned()];
        self.resolve_in_chain(name, &mut visited)
    }

    fn resolve_in_chain(
        &self,
        name: &str,
        visited: &mut Vec<String>,
    ) -> Result<Option<Resolved>, CredentialError> {
        match self.kind(name) {
            ProfileKind::AssumeRole => self.assume_role_of(name, visited).map(Some),
            ProfileKind::Sso => Err(CredentialError::Sso {
                profile: name.to_owned(),
            }),
            ProfileKind::Static => Ok(SharedFiles::static_keys_in(&self.files.credentials, name)
                .or_else(|| SharedFiles::static_keys_in(&self.files.config, name))
                .map(|credentials| Resolved {
                    credentials,
                    origin: format!("profile {name}: static keys"),
                })),
            ProfileKind::Process => {
                let command = self
                    .files
                    .get(name, "credential_process")
                    .unwrap_or_default();
                run_credential_process(name, command).map(|credentials| {
                    Some(Resolved {
                        credentials,
                        origin: format!("profile {name}: credential_process"),
                    })
                })
            }
            ProfileKind::Nothing => Ok(None),
        }
    }

    fn config_error(name: &str, message: impl Into<String>) -> CredentialError {
        CredentialError::Config {
            profile: name.to_owned(),
            message: message.into(),
        }
    }

    /// Profile `name` has `role_arn`: its source's credentials, then STS.
    fn assume_role_of(
        &self,
        name: &str,
        visited: &mut Vec<String>,
    ) -> Result<Resolved, CredentialError> {
        let get = |k: &str| self.files.get(name, k);
        let role_arn = get("role_arn").unwrap_or_default().to_owned();
        if let Some(serial) = get("mfa_serial") {
            return Err(CredentialError::Mfa {
                profile: name.to_owned(),
                serial: serial.to_owned(),
            });
        }
        let session_name = get("role_session_name")
            .map(str::to_owned)
            .or_else(|| self.env.get("AWS_ROLE_SESSION_NAME").map(str::to_owned))
            .unwrap_or_else(|| format!("rampart-{}", OffsetDateTime::now_utc().unix_timestamp()));
        let duration = match get("duration_seconds") {
            None => None,
            Some(d) => Some(d.parse::<u32>().ok().filter(|d| (900..=43_200).contains(d)).ok_or_else(
                || Self::config_error(name, format!("duration_seconds = {d} is not a number of seconds from 900 to 43200")),
            )?),
        };
        let external_id = get("external_id");
        let source_profile = get("source_profile");
        let credential_source = get("credential_source");
        let web_identity_file = get("web_identity_token_file");

        let (source, via) = match (source_profile, credential_source, web_identity_file) {
            (Some(_), Some(_), _) => {
                return Err(Self::config_error(
                    name,
                    "it has both source_profile and credential_source; keep one",
                ));
            }
            (Some(source), None, _) => {
                let source = source.to_owned();
                if visited.len() > MAX_CHAIN {
                    return Err(CredentialError::TooDeep {
                        profile: visited.first().cloned().unwrap_or_default(),
                        chain: visited.join(" → "),
                    });
                }
                // A profile may name itself as its source when it also has
                // keys (role_arn and static keys in one profile); any other
                // return to a profile already on the path is a loop.
                let self_with_keys = source == name && self.files.has_static_keys(&source);
                if visited.contains(&source) && !self_with_keys {
                    visited.push(source);
                    return Err(CredentialError::Cycle {
                        chain: visited.join(" → "),
                    });
                }
                visited.push(source.clone());
                (
                    self.source_profile_credentials(&source, visited)?,
                    format!("profile {source}"),
                )
            }
            (None, Some(kind), _) => (
                self.credential_source(name, kind)?,
                format!("credential_source {kind}"),
            ),
            (None, None, Some(token_file)) => {
                let credentials = self.assume_role_with_web_identity(
                    name,
                    &role_arn,
                    &session_name,
                    duration,
                    token_file,
                )?;
                return Ok(Resolved {
                    credentials,
                    origin: format!(
                        "profile {name}: role {role_arn} assumed with the web identity token {token_file}"
                    ),
                });
            }
            (None, None, None) => {
                return Err(Self::config_error(
                    name,
                    "it has role_arn but no source_profile, credential_source or web_identity_token_file to assume it with",
                ));
            }
        };
        let credentials = self.assume_role(
            name,
            &AssumeRoleRequest {
                role_arn: &role_arn,
                session_name: &session_name,
                duration_seconds: duration,
                external_id,
            },
            &source,
        )?;
        Ok(Resolved {
            credentials,
            origin: format!("profile {name}: role {role_arn} assumed with {via}"),
        })
    }

    /// A source profile's credentials: its static keys if it has them (even
    /// with a role_arn of its own, as the AWS CLI does), else its own chain.
    fn source_profile_credentials(
        &self,
        source: &str,
        visited: &mut Vec<String>,
    ) -> Result<AwsCredentials, CredentialError> {
        if !self.files.has_profile(source) {
            return Err(CredentialError::ProfileNotFound {
                profile: source.to_owned(),
                config: self.files.config_name.clone(),
                credentials: self.files.credentials_name.clone(),
            });
        }
        if let Some(keys) = SharedFiles::static_keys_in(&self.files.credentials, source)
            .or_else(|| SharedFiles::static_keys_in(&self.files.config, source))
        {
            return Ok(keys);
        }
        match self.resolve_in_chain(source, visited)? {
            Some(r) => Ok(r.credentials),
            None => Err(Self::config_error(
                source,
                "it is a source_profile but has no credentials (no keys, role_arn or credential_process)",
            )),
        }
    }

    fn credential_source(&self, name: &str, kind: &str) -> Result<AwsCredentials, CredentialError> {
        let failed = |message: String| CredentialError::Source {
            profile: name.to_owned(),
            source_name: format!("credential_source = {kind}"),
            message,
        };
        match kind {
            "Environment" => self.env.static_credentials().ok_or_else(|| {
                failed("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set".into())
            }),
            "EcsContainer" => self.container_credentials().map_err(failed),
            "Ec2InstanceMetadata" => self.instance_credentials().map_err(failed),
            other => Err(Self::config_error(
                name,
                format!(
                    "credential_source = {other} is not one of Environment, Ec2InstanceMetadata, EcsContainer"
                ),
            )),
        }
    }

    /// STS's address: the override, else the regional endpoint (the AWS
    /// CLI v2's default).
    fn sts_endpoint(&self) -> String {
        match self.env.sts_endpoint() {
            Some(e) => e.trim_end_matches('/').to_owned(),
            None if self.region.starts_with("cn-") => {
                format!("https://sts.{}.amazonaws.com.cn", self.region)
            }
            None => format!("https://sts.{}.amazonaws.com", self.region),
        }
    }

    fn assume_role(
        &self,
        name: &str,
        request: &AssumeRoleRequest<'_>,
        source: &AwsCredentials,
    ) -> Result<AwsCredentials, CredentialError> {
        let failed = |message: String| CredentialError::Sts {
            profile: name.to_owned(),
            role_arn: request.role_arn.to_owned(),
            message,
        };
        let endpoint = self.sts_endpoint();
        let url = format!("{endpoint}/");
        let not_http = || {
            failed(format!(
                "the STS endpoint {endpoint:?} is not an http(s) URL"
            ))
        };
        let host = host_of(&url).ok_or_else(not_http)?;
        // The path the request goes to (a proxy's `/sts/`), not always `/`:
        // a signature over another path is refused.
        let path = canonical_path(&path_of(&url).ok_or_else(not_http)?);
        let body = request.body();
        let amz_date = amz_date_now();
        let authorization = rampart_aws_sign::sign_v4(&SigningInput {
            method: "POST",
            host: &host,
            path: &path,
            query: "",
            content_type: FORM_CONTENT_TYPE,
            amz_date: &amz_date,
            payload: body.as_bytes(),
            service: "sts",
            region: &self.region,
            key_id: &source.access_key_id,
            secret: &source.secret_access_key,
            session_token: source.session_token.as_deref(),
        });
        let mut post = self
            .agent
            .post(&url)
            .header("Content-Type", FORM_CONTENT_TYPE)
            .header("X-Amz-Date", &amz_date)
            .header("Authorization", &authorization);
        if let Some(token) = &source.session_token {
            post = post.header("X-Amz-Security-Token", token.trim());
        }
        let answer = post.send(body.as_bytes());
        read_sts_answer(answer, &endpoint).map_err(failed)
    }

    fn assume_role_with_web_identity(
        &self,
        name: &str,
        role_arn: &str,
        session_name: &str,
        duration: Option<u32>,
        token_file: &str,
    ) -> Result<AwsCredentials, CredentialError> {
        let failed = |message: String| CredentialError::Sts {
            profile: name.to_owned(),
            role_arn: role_arn.to_owned(),
            message,
        };
        let token = std::fs::read_to_string(token_file).map_err(|e| {
            failed(format!(
                "could not read web_identity_token_file {token_file}: {e}"
            ))
        })?;
        let mut body = format!(
            "Action=AssumeRoleWithWebIdentity&RoleArn={}&RoleSessionName={}&Version=2011-06-15&WebIdentityToken={}",
            form_encode(role_arn),
            form_encode(session_name),
            form_encode(token.trim())
        );
        if let Some(d) = duration {
            body.push_str(&format!("&DurationSeconds={d}"));
        }
        let endpoint = self.sts_endpoint();
        // AssumeRoleWithWebIdentity is not signed: the token is the proof.
        let answer = self
            .agent
            .post(&format!("{endpoint}/"))
            .header("Content-Type", FORM_CONTENT_TYPE)
            .send(body.as_bytes());
        read_sts_answer(answer, &endpoint).map_err(failed)
    }

    /// `credential_source = EcsContainer`: the container credentials
    /// endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` on
    /// 169.254.170.2, or `AWS_CONTAINER_CREDENTIALS_FULL_URI` with its
    /// authorization token).
    fn container_credentials(&self) -> Result<AwsCredentials, String> {
        let url = if let Some(rel) = self.env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            format!("http://169.254.170.2{rel}")
        } else if let Some(full) = self.env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            full.to_owned()
        } else {
            return Err("neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set (not in an ECS task?)".into());
        };
        let token = match (
            self.env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            self.env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
        ) {
            (Some(file), _) => Some(
                std::fs::read_to_string(file)
                    .map_err(|e| {
                        format!("could not read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {file}: {e}")
                    })?
                    .trim()
                    .to_owned(),
            ),
            (None, token) => token.map(str::to_owned),
        };
        let mut get = self.agent.get(&url);
        if let Some(t) = &token {
            get = get.header("Authorization", t);
        }
        let text = read_body(get.call(), &url)?;
        parse_credentials_json(&text, "Token")
    }

    /// `credential_source = Ec2InstanceMetadata`: IMDSv2 (a session token,
    /// then the instance role's credentials).
    fn instance_credentials(&self) -> Result<AwsCredentials, String> {
        let base = self
            .env
            .get("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            .unwrap_or("http://169.254.169.254")
            .trim_end_matches('/')
            .to_owned();
        let token_url = format!("{base}/latest/api/token");
        let token = read_body(
            self.agent
                .put(&token_url)
                .header("X-aws-ec2-metadata-token-ttl-seconds", "21600")
                .send_empty(),
            &token_url,
        )?;
        let roles_url = format!("{base}/latest/meta-data/iam/security-credentials/");
        let roles = read_body(
            self.agent
                .get(&roles_url)
                .header("X-aws-ec2-metadata-token", token.trim())
                .call(),
            &roles_url,
        )?;
        let role = roles
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .ok_or("the instance has no IAM role (instance profile)")?;
        let role_url = format!("{roles_url}{role}");
        let text = read_body(
            self.agent
                .get(&role_url)
                .header("X-aws-ec2-metadata-token", token.trim())
                .call(),
            &role_url,
        )?;
        parse_credentials_json(&text, "Token")
    }
}

struct AssumeRoleRequest<'a> {
    role_arn: &'a str,
    session_name: &'a str,
    duration_seconds: Option<u32>,
    external_id: Option<&'a str>,
}

impl AssumeRoleRequest<'_> {
    /// The form body, parameters in canonical (sorted) order.
    fn body(&self) -> String {
        let mut body = String::from("Action=AssumeRole");
        if let Some(d) = self.duration_seconds {
            body.push_str(&format!("&DurationSeconds={d}"));
        }
        if let Some(id) = self.external_id {
            body.push_str(&format!("&ExternalId={}", form_encode(id)));
        }
        body.push_str(&format!(
            "&RoleArn={}&RoleSessionName={}&Version=2011-06-15",
            form_encode(self.role_arn),
            form_encode(self.session_name)
        ));
        body
    }
}

type HttpAnswer = Result<ureq::http::Response<ureq::Body>, ureq::Error>;

/// A 200's body as text, else a message with the status.
fn read_body(answer: HttpAnswer, url: &str) -> Result<String, String> {
    let mut response = answer.map_err(|e| format!("could not reach {url}: {e}"))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(256 * 1024)
        .read_to_string()
        .map_err(|e| format!("could not read the answer of {url}: {e}"))?;
    if status == 200 {
        Ok(text)
    } else {
        Err(format!("{url} answered {status}"))
    }
}

/// The credentials of an AssumeRole(WithWebIdentity) answer, or why not.
fn read_sts_answer(answer: HttpAnswer, endpoint: &str) -> Result<AwsCredentials, String> {
    let mut response = answer.map_err(|e| {
        format!(
            "could not reach STS at {endpoint}: {e}; check the network, or set AWS_ENDPOINT_URL_STS"
        )
    })?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(256 * 1024)
        .read_to_string()
        .unwrap_or_default();
    parse_sts_answer(status, &text)
}

fn parse_sts_answer(status: u16, text: &str) -> Result<AwsCredentials, String> {
    use rampart_aws_sign::xml_text;
    if status != 200 {
        let code = xml_text(text, "Code").unwrap_or_else(|| format!("HTTP {status}"));
        let message = xml_text(text, "Message").unwrap_or_default();
        let hint = match code.as_str() {
            "AccessDenied" => {
                "; the role's trust policy must allow the source identity to call sts:AssumeRole (with the right ExternalId)"
            }
            "InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredToken" => {
                "; the source credentials are not valid (check the source profile's keys)"
            }
            _ => "",
        };
        return Err(format!("STS refused ({code}: {message}){hint}"));
    }
    let field = |tag: &str| {
        xml_text(text, tag)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("STS answered without {tag}"))
    };
    let expiration = field("Expiration")?;
    Ok(AwsCredentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: field("SecretAccessKey")?,
        session_token: Some(field("SessionToken")?),
        expires: Some(parse_expiration(&expiration)?),
    })
}

fn parse_expiration(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("the expiry {text:?} is not an ISO 8601 time ({e})"))
}

/// The JSON of container and instance credentials: `AccessKeyId`,
/// `SecretAccessKey`, the token under `token_key`, `Expiration`.
fn parse_credentials_json(text: &str, token_key: &str) -> Result<AwsCredentials, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).filter(|s| !s.is_empty());
    let need = |k: &str| {
        field(k)
            .map(str::to_owned)
            .ok_or_else(|| format!("the answer has no {k}"))
    };
    Ok(AwsCredentials {
        access_key_id: need("AccessKeyId")?,
        secret_access_key: need("SecretAccessKey")?,
        session_token: field(token_key).map(str::to_owned),
        expires: field("Expiration").map(parse_expiration).transpose()?,
    })
}

/// Splits a command line as POSIX `sh` (and Python's `shlex.split`, which
/// the AWS CLI uses for `credential_process`) would, without running a
/// shell: blanks separate words; '…' is literal; "…" and a backslash escape.
pub fn split_command(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a ' quote is not closed".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('\\' | '"' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a \" quote is not closed".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a \" quote is not closed".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => word.push(c),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Runs `credential_process` as the AWS CLI does (split into words, no
/// shell, stdout and stderr captured) and reads its JSON (`Version` 1).
pub fn run_credential_process(
    profile: &str,
    command: &str,
) -> Result<AwsCredentials, CredentialError> {
    let failed = |message: String| CredentialError::Process {
        profile: profile.to_owned(),
        message,
    };
    let words = split_command(command).map_err(|e| failed(format!("{command:?}: {e}")))?;
    let Some((program, args)) = words.split_first() else {
        return Err(failed("credential_process is empty".into()));
    };
    let output = std::process::Command::new(program)
        .args(args)
        // Not the AWS CLI's inherited stdin: `rampart detect -` reads logs
        // from it, which a helper must not consume.
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| failed(format!("could not run {program:?}: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr: String = stderr.trim().chars().take(2000).collect();
        return Err(failed(format!(
            "{program:?} ended with {}{}",
            output.status,
            if stderr.is_empty() {
                String::new()
            } else {
                format!(": {stderr}")
            }
        )));
    }
    parse_process_output(&output.stdout).map_err(|e| failed(format!("{program:?} {e}")))
}

fn parse_process_output(stdout: &[u8]) -> Result<AwsCredentials, String> {
    let v: serde_json::Value = serde_json::from_slice(stdout)
        .map_err(|e| format!("printed something that is not JSON ({e})"))?;
    match v.get("Version").and_then(serde_json::Value::as_u64) {
        Some(1) => {}
        Some(other) => {
            return Err(format!(
                "printed Version {other}; only Version 1 is understood"
            ));
        }
        None => return Err("printed JSON without \"Version\": 1".into()),
    }
    parse_credentials_json(&v.to_string(), "SessionToken")
        .map_err(|e| e.replace("the answer has", "printed JSON with"))
}

/// When credentials in use are to be fetched again: from their lifetime
/// (obtained to expiry) and the last failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RefreshSchedule {
    obtained: OffsetDateTime,
    expires: Option<OffsetDateTime>,
    last_failure: Option<OffsetDateTime>,
}

impl RefreshSchedule {
    fn new(credentials: &AwsCredentials, obtained: OffsetDateTime) -> Self {
        RefreshSchedule {
            obtained,
            expires: credentials.expires,
            last_failure: None,
        }
    }

    /// The first moment a refresh is due: `min(10 minutes, lifetime / 2)`
    /// before the expiry; never for credentials that do not expire.
    fn refresh_at(&self) -> Option<OffsetDateTime> {
        let expires = self.expires?;
        let lifetime = (expires - self.obtained).max(time::Duration::ZERO);
        Some(expires - REFRESH_AHEAD.min(lifetime / 2))
    }

    /// Whether a request at `now` runs the chain first. Expired credentials
    /// are useless, so they are always retried; valid ones at most once per
    /// [`RETRY_AFTER_FAILURE`] after a failure.
    fn due(&self, now: OffsetDateTime) -> bool {
        let (Some(expires), Some(refresh_at)) = (self.expires, self.refresh_at()) else {
            return false;
        };
        if expires <= now {
            return true;
        }
        now >= refresh_at
            && self
                .last_failure
                .is_none_or(|failed| now - failed >= RETRY_AFTER_FAILURE)
    }
}

/// The credentials handed out, in both forms, and when to replace them.
struct CurrentCredentials {
    credentials: AwsCredentials,
    for_store: Arc<AwsCredential>,
    schedule: RefreshSchedule,
}

impl CurrentCredentials {
    fn new(credentials: AwsCredentials, obtained: OffsetDateTime) -> Self {
        CurrentCredentials {
            for_store: Arc::new(credentials.to_object_store()),
            schedule: RefreshSchedule::new(&credentials, obtained),
            credentials,
        }
    }
}

/// An object_store credential provider over a [`ProfileChain`]: hands out
/// the current credentials, and runs the chain again (on a blocking
/// thread: STS and processes are blocking) when they near their expiry
/// (see [`RefreshSchedule`]), so a long `--follow` keeps reading.
pub struct RefreshingCredentials {
    chain: Arc<ProfileChain>,
    profile: String,
    current: tokio::sync::Mutex<CurrentCredentials>,
    /// The time now; tests move it by hand.
    clock: fn() -> OffsetDateTime,
}

impl std::fmt::Debug for RefreshingCredentials {
    // object_store's Debug prints its provider: only the key id and expiry
    // of the current credentials, never the secret or token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("RefreshingCredentials");
        d.field("profile", &self.profile)
            .field("chain", &self.chain);
        match self.current.try_lock() {
            Ok(current) => d
                .field("access_key_id", &current.credentials.access_key_id)
                .field("expires", &current.credentials.expires),
            Err(_) => d.field("current", &"(being refreshed)"),
        };
        d.finish_non_exhaustive()
    }
}

impl RefreshingCredentials {
    pub fn new(chain: ProfileChain, profile: &str, first: AwsCredentials) -> Self {
        Self::with_clock(chain, profile, first, OffsetDateTime::now_utc)
    }

    fn with_clock(
        chain: ProfileChain,
        profile: &str,
        first: AwsCredentials,
        clock: fn() -> OffsetDateTime,
    ) -> Self {
        RefreshingCredentials {
            chain: Arc::new(chain),
            profile: profile.to_owned(),
            current: tokio::sync::Mutex::new(CurrentCredentials::new(first, clock())),
            clock,
        }
    }
}

#[async_trait::async_trait]
impl CredentialProvider for RefreshingCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut current = self.current.lock().await;
        if !current.schedule.due((self.clock)()) {
            return Ok(Arc::clone(&current.for_store));
        }
        let chain = Arc::clone(&self.chain);
        let profile = self.profile.clone();
        let fetched = tokio::task::spawn_blocking(move || chain.resolve(&profile, true)).await;
        let now = (self.clock)();
        let error: Box<dyn std::error::Error + Send + Sync> = match fetched {
            Ok(Ok(Some(resolved))) => {
                *current = CurrentCredentials::new(resolved.credentials, now);
                return Ok(Arc::clone(&current.for_store));
            }
            Ok(Ok(None)) => format!(
                "the AWS profile {:?} no longer gives credentials",
                self.profile
            )
            .into(),
            Ok(Err(e)) => Box::new(e),
            Err(e) => format!("refreshing AWS credentials stopped: {e}").into(),
        };
        current.schedule.last_failure = Some(now);
        // Still valid for a while: keep them; the next try waits a minute.
        if !current.credentials.expired(now) {
            return Ok(Arc::clone(&current.for_store));
        }
        Err(object_store::Error::Generic {
            store: "S3",
            source: error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(config: &str, credentials: &str) -> ProfileChain {
        let files = SharedFiles {
            config: parse_ini(config),
            credentials: parse_ini(credentials),
            config_name: "config".into(),
            credentials_name: "credentials".into(),
        };
        ProfileChain::new(AwsEnvironment::default(), files, "us-east-1")
    }

    #[test]
    fn ini_sections_keys_and_nested_settings() {
        let text = "# c\n[default]\nregion = eu-west-1\n[profile a b]\nRole_Arn = arn:x\ns3 =\n  max_concurrent_requests = 10\n  region = nested\nsource_profile=base\n; c\n[sso-session corp]\nsso_region = us-east-1\n";
        let ini = parse_ini(text);
        assert_eq!(ini["default"]["region"], "eu-west-1");
        let ab = &ini["a b"];
        assert_eq!(ab["role_arn"], "arn:x");
        assert_eq!(ab["source_profile"], "base");
        assert_eq!(ab.get("region"), None, "nested keys are not the profile's");
        assert_eq!(ab.get("max_concurrent_requests"), None);
        assert!(ini.contains_key("sso-session corp"));
    }

    #[test]
    fn credentials_file_wins_and_kinds_follow_the_cli_order() {
        let c = chain(
            "[default]\nregion = eu-west-1\n[profile audit]\nregion = us-west-2\naws_access_key_id = AKIAIGNORED\naws_secret_access_key = x\n\
             [profile reader]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = audit\n\
             [profile proc]\ncredential_process = /bin/true\naws_access_key_id = AKIACONFIG\naws_secret_access_key = y\n\
             [profile sso]\nsso_session = corp\n[profile empty]\nregion = eu-north-1\n",
            "[audit]\naws_access_key_id = AKIAAUDIT\naws_secret_access_key = s2\naws_session_token = tok\n",
        );
        let audit = c.resolve("audit", true).expect("ok").expect("keys");
        assert_eq!(audit.credentials.access_key_id, "AKIAAUDIT");
        assert_eq!(audit.credentials.session_token.as_deref(), Some("tok"));
        assert_eq!(c.files().region("audit"), Some("us-west-2"));
        assert_eq!(c.kind("reader"), ProfileKind::AssumeRole);
        // credential_process comes before static keys of the config file.
        assert_eq!(c.kind("proc"), ProfileKind::Process);
        assert_eq!(c.kind("sso"), ProfileKind::Sso);
        assert_eq!(c.kind("empty"), ProfileKind::Nothing);
        assert!(c.resolve("empty", true).expect("ok").is_none());
        assert!(c.resolve("default", false).expect("ok").is_none());
        assert!(c.resolve("missing", false).expect("ok").is_none());
        let e = c
            .resolve("missing", true)
            .expect_err("named but absent")
            .to_string();
        assert!(
            e.contains("\"missing\" is in neither config nor credentials"),
            "{e}"
        );
        let e = c.resolve("sso", true).expect_err("sso").to_string();
        assert!(e.contains("aws sso login --profile sso"), "{e}");
        assert!(e.contains("export-credentials"), "{e}");
    }

    #[test]
    fn loops_depth_mfa_and_bad_settings_are_refused_before_any_request() {
        let c = chain(
            "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n\
             [profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n\
             [profile selfish]\nrole_arn = arn:aws:iam::1:role/s\nsource_profile = selfish\n\
             [profile mfa]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = a\nmfa_serial = arn:aws:iam::1:mfa/me\n\
             [profile both]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = a\ncredential_source = Environment\n\
             [profile neither]\nrole_arn = arn:aws:iam::1:role/x\n\
             [profile env]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Environment\n\
             [profile odd]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Laptop\n\
             [profile long]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Environment\nduration_seconds = 12h\n\
             [profile ghost]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = nobody\n\
             [profile bare]\nregion = eu-west-1\n[profile needs-bare]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = bare\n",
            "",
        );
        let err = |p: &str| c.resolve(p, true).expect_err(p).to_string();
        assert!(err("a").contains("loop (a → b → a)"), "{}", err("a"));
        assert!(
            err("selfish").contains("loop (selfish → selfish)"),
            "{}",
            err("selfish")
        );
        let mfa = err("mfa");
        assert!(
            mfa.contains("MFA") && mfa.contains("arn:aws:iam::1:mfa/me"),
            "{mfa}"
        );
        assert!(err("both").contains("both source_profile and credential_source"));
        assert!(err("neither").contains("no source_profile, credential_source"));
        assert!(err("env").contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"));
        assert!(err("odd").contains("Laptop is not one of"));
        assert!(err("long").contains("duration_seconds = 12h"));
        assert!(err("ghost").contains("\"nobody\" is in neither"));
        assert!(
            err("needs-bare").contains("\"bare\" is not usable"),
            "{}",
            err("needs-bare")
        );

        // A long chain of distinct profiles stops at the limit.
        let mut text = String::new();
        for i in 0..20 {
            text.push_str(&format!(
                "[profile p{i}]\nrole_arn = arn:aws:iam::1:role/p{i}\nsource_profile = p{}\n",
                i + 1
            ));
        }
        let deep = chain(&text, "")
            .resolve("p0", true)
            .expect_err("deep")
            .to_string();
        assert!(deep.contains("more than 8 roles"), "{deep}");
    }

    #[test]
    fn assume_role_bodies_are_sorted_and_encoded() {
        let r = AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/reader",
            session_name: "s",
            duration_seconds: Some(900),
            external_id: Some("a b"),
        };
        assert_eq!(
            r.body(),
            "Action=AssumeRole&DurationSeconds=900&ExternalId=a%20b&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Freader&RoleSessionName=s&Version=2011-06-15"
        );
    }

    #[test]
    fn sts_answers_give_credentials_or_say_why_not() {
        let ok = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>sec</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2026-12-01T22:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";
        let c = parse_sts_answer(200, ok).expect("ok");
        assert_eq!(c.access_key_id, "ASIAX");
        assert_eq!(c.session_token.as_deref(), Some("tok"));
        assert_eq!(c.expires.map(|t| t.unix_timestamp()), Some(1_796_162_400));
        let denied = "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not allowed</Message></Error></ErrorResponse>";
        let e = parse_sts_answer(403, denied).expect_err("denied");
        assert!(
            e.contains("AccessDenied: not allowed") && e.contains("trust policy"),
            "{e}"
        );
        assert!(
            parse_sts_answer(200, "<x/>")
                .expect_err("empty")
                .contains("without Expiration")
        );
        assert!(
            parse_sts_answer(500, "")
                .expect_err("500")
                .contains("HTTP 500")
        );
    }

    #[test]
    fn process_output_is_checked() {
        let ok = br#"{"Version": 1, "AccessKeyId": "AKIAP", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2026-12-01T22:00:00.123+01:00"}"#;
        let c = parse_process_output(ok).expect("ok");
        assert_eq!(c.access_key_id, "AKIAP");
        assert_eq!(c.session_token.as_deref(), Some("t"));
        assert!(c.expires.is_some());
        let forever =
            parse_process_output(br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"s"}"#)
                .expect("no expiry");
        assert_eq!((forever.session_token, forever.expires), (None, None));
        for (bad, says) in [
            (
                &br#"{"Version":2,"AccessKeyId":"A","SecretAccessKey":"s"}"#[..],
                "Version 2",
            ),
            (
                br#"{"AccessKeyId":"A","SecretAccessKey":"s"}"#,
                "without \"Version\"",
            ),
            (
                br#"{"Version":1,"AccessKeyId":"A"}"#,
                "with no SecretAccessKey",
            ),
            (
                br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"soon"}"#,
                "not an ISO 8601",
            ),
            (b"Access denied", "not JSON"),
        ] {
            let e = parse_process_output(bad).expect_err(says);
            assert!(e.contains(says), "{e}");
        }
        let ecs = parse_credentials_json(
            r#"{"AccessKeyId":"ASIAE","SecretAccessKey":"s","Token":"t","Expiration":"2026-12-01T22:00:00Z"}"#,
            "Token",
        )
        .expect("ecs");
        assert_eq!(ecs.session_token.as_deref(), Some("t"));
    }

    #[test]
    fn commands_split_like_shlex() {
        let w = split_command(r#"/opt/get creds --profile 'my prof' "a \"q\" \$x" b\ c ''"#)
            .expect("ok");
        assert_eq!(
            w,
            [
                "/opt/get",
                "creds",
                "--profile",
                "my prof",
                "a \"q\" $x",
                "b c",
                ""
            ]
        );
        assert!(split_command("x 'open").is_err());
        assert!(split_command("x \"open").is_err());
        assert_eq!(split_command("  ").expect("ok"), Vec::<String>::new());
    }

    #[test]
    fn a_failing_or_missing_process_says_so() {
        let e = run_credential_process("p", "sh -c 'echo token expired >&2; exit 3'")
            .expect_err("fails")
            .to_string();
        assert!(
            e.contains("\"p\"") && e.contains("exit status: 3") && e.contains("token expired"),
            "{e}"
        );
        let e = run_credential_process("p", "/nonexistent/rampart-creds")
            .expect_err("missing")
            .to_string();
        assert!(e.contains("could not run"), "{e}");
        let e = run_credential_process("p", "")
            .expect_err("empty")
            .to_string();
        assert!(e.contains("empty"), "{e}");
    }

    fn minutes(m: i64) -> time::Duration {
        time::Duration::minutes(m)
    }

    #[test]
    fn refresh_is_due_ten_minutes_or_half_the_lifetime_before_expiry() {
        let start = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let mut c = AwsCredentials {
            access_key_id: "A".into(),
            secret_access_key: "s".into(),
            session_token: None,
            expires: None,
        };
        let forever = RefreshSchedule::new(&c, start);
        assert_eq!(forever.refresh_at(), None);
        assert!(!forever.due(start + time::Duration::days(400)));

        // An hour: ten minutes ahead.
        c.expires = Some(start + minutes(60));
        let hour = RefreshSchedule::new(&c, start);
        assert_eq!(hour.refresh_at(), Some(start + minutes(50)));
        assert!(!hour.due(start + minutes(49)));
        assert!(hour.due(start + minutes(50)));

        // Five minutes (a credential_process): half the lifetime ahead, so
        // not on every call from the start.
        c.expires = Some(start + minutes(5));
        let short = RefreshSchedule::new(&c, start);
        assert_eq!(
            short.refresh_at(),
            Some(start + time::Duration::seconds(150))
        );
        assert!(!short.due(start));
        assert!(!short.due(start + time::Duration::seconds(149)));
        assert!(short.due(start + time::Duration::seconds(150)));

        // Given already expired: due at once.
        c.expires = Some(start - minutes(1));
        assert!(RefreshSchedule::new(&c, start).due(start));
        assert!(c.expired(start));
    }

    #[test]
    fn a_failed_refresh_is_retried_once_a_minute_until_expiry() {
        let start = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let c = AwsCredentials {
            access_key_id: "A".into(),
            secret_access_key: "s".into(),
            session_token: None,
            expires: Some(start + minutes(60)),
        };
        let mut s = RefreshSchedule::new(&c, start);
        s.last_failure = Some(start + minutes(50));
        assert!(!s.due(start + minutes(50)));
        assert!(!s.due(start + minutes(50) + time::Duration::seconds(59)));
        assert!(s.due(start + minutes(51)));
        // Expired: tried on every call, however recent the failure.
        s.last_failure = Some(start + minutes(60) - time::Duration::seconds(1));
        assert!(!s.due(start + minutes(60) - time::Duration::milliseconds(500)));
        assert!(s.due(start + minutes(60)));
    }

    /// The clock of the provider test, in unix seconds, moved by hand.
    static FAKE_NOW: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

    fn fake_now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(FAKE_NOW.load(std::sync::atomic::Ordering::SeqCst))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn the_provider_refreshes_on_schedule_and_backs_off_after_failures() {
        use std::sync::atomic::Ordering;
        let start = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let at = |offset: time::Duration| {
            FAKE_NOW.store((start + offset).unix_timestamp(), Ordering::SeqCst);
        };
        let dir = tempfile::tempdir().expect("tmp");
        let answer = dir.path().join("answer.json");
        let runs = dir.path().join("runs");
        // A real helper process: counts its runs, prints answer.json, and
        // fails while there is none.
        let helper = dir.path().join("helper.sh");
        std::fs::write(
            &helper,
            format!(
                "echo x >> '{}'\ncat '{}' || exit 1\n",
                runs.display(),
                answer.display()
            ),
        )
        .expect("write helper");
        let c = chain(
            &format!(
                "[profile p]\ncredential_process = sh '{}'\n",
                helper.display()
            ),
            "",
        );
        let runs_so_far = || {
            std::fs::read_to_string(&runs)
                .map(|t| t.lines().count())
                .unwrap_or(0)
        };
        let answer_expiring = |key: &str, expires: OffsetDateTime| {
            let expires = expires
                .format(&time::format_description::well_known::Rfc3339)
                .expect("format");
            std::fs::write(
                &answer,
                format!(r#"{{"Version":1,"AccessKeyId":"{key}","SecretAccessKey":"s","SessionToken":"t","Expiration":"{expires}"}}"#),
            )
            .expect("write answer");
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        at(time::Duration::ZERO);
        let first = AwsCredentials {
            access_key_id: "FIRST".into(),
            secret_access_key: "s".into(),
            session_token: Some("t".into()),
            expires: Some(start + minutes(5)),
        };
        let provider = RefreshingCredentials::with_clock(c, "p", first, fake_now);
        let key = |offset: time::Duration| {
            at(offset);
            rt.block_on(provider.get_credential())
                .map(|c| c.key_id.clone())
                .map_err(|e| e.to_string())
        };
        let sec = time::Duration::seconds;

        // Five-minute credentials are not refreshed before half-life.
        assert_eq!(key(minutes(1)).as_deref(), Ok("FIRST"));
        assert_eq!(key(sec(149)).as_deref(), Ok("FIRST"));
        assert_eq!(runs_so_far(), 0);
        // Due, but the helper fails: the old ones are kept...
        assert_eq!(key(sec(151)).as_deref(), Ok("FIRST"));
        assert_eq!(runs_so_far(), 1);
        // ...and not asked again for a minute.
        assert_eq!(key(sec(170)).as_deref(), Ok("FIRST"));
        assert_eq!(key(sec(210)).as_deref(), Ok("FIRST"));
        assert_eq!(runs_so_far(), 1);
        assert_eq!(key(sec(211)).as_deref(), Ok("FIRST"));
        assert_eq!(runs_so_far(), 2);
        // The helper works again; the next try after the pause takes it.
        answer_expiring("SECOND", start + minutes(65));
        assert_eq!(key(sec(240)).as_deref(), Ok("FIRST"));
        assert_eq!(runs_so_far(), 2);
        assert_eq!(key(sec(271)).as_deref(), Ok("SECOND"));
        assert_eq!(runs_so_far(), 3);
        // An hour's credentials: left alone until ten minutes before.
        assert_eq!(key(minutes(30)).as_deref(), Ok("SECOND"));
        assert_eq!(key(minutes(54)).as_deref(), Ok("SECOND"));
        assert_eq!(runs_so_far(), 3);
        // Failing near expiry, then expired: every call tries again and
        // fails, as the old credentials no longer work.
        std::fs::remove_file(&answer).expect("rm answer");
        assert_eq!(key(minutes(64) + sec(30)).as_deref(), Ok("SECOND"));
        assert_eq!(runs_so_far(), 4);
        let e = key(minutes(65)).expect_err("expired");
        assert!(
            e.contains("credential_process of the AWS profile \"p\" failed"),
            "{e}"
        );
        assert!(key(minutes(65) + sec(10)).is_err());
        assert_eq!(runs_so_far(), 6);
    }

    /// Serves one HTTP request on 127.0.0.1 with an AssumeRole answer and
    /// hands back the request's head (request line and headers).
    fn one_sts_answer() -> (String, std::thread::JoinHandle<String>) {
        use std::io::{BufRead, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let served = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = std::io::BufReader::new(stream);
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("read head");
                if line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().expect("length");
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("read body");
            let answer = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAPROXY</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";
            write!(
                reader.get_mut(),
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            )
            .expect("answer");
            head
        });
        (address, served)
    }

    #[test]
    fn an_sts_endpoint_with_a_path_is_signed_for_that_path() {
        let (address, served) = one_sts_answer();
        let env =
            AwsEnvironment::from_vars([("AWS_ENDPOINT_URL_STS", format!("http://{address}/sts"))]);
        let files = SharedFiles {
            config: parse_ini(
                "[profile reader]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\nrole_session_name = s\n",
            ),
            credentials: parse_ini(
                "[base]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n",
            ),
            config_name: "config".into(),
            credentials_name: "credentials".into(),
        };
        let resolved = ProfileChain::new(env, files, "us-east-1")
            .resolve("reader", true)
            .expect("assumed")
            .expect("credentials");
        assert_eq!(resolved.credentials.access_key_id, "ASIAPROXY");
        let head = served.join().expect("served");
        assert!(head.starts_with("POST /sts/ HTTP/1.1\r\n"), "{head}");
        let header = |name: &str| {
            head.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_else(|| panic!("no {name} in {head}"))
        };
        let amz_date = header("x-amz-date");
        let request = AssumeRoleRequest {
            role_arn: "arn:aws:iam::1:role/r",
            session_name: "s",
            duration_seconds: None,
            external_id: None,
        };
        let body = request.body();
        let expected = rampart_aws_sign::sign_v4(&SigningInput {
            method: "POST",
            host: &header("host"),
            path: "/sts/",
            query: "",
            content_type: FORM_CONTENT_TYPE,
            amz_date: &amz_date,
            payload: body.as_bytes(),
            service: "sts",
            region: "us-east-1",
            key_id: "AKIDEXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token: None,
        });
        assert_eq!(header("authorization"), expected);
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY";
        const TOKEN: &str = "IQoJb3JpZ2luX2VjSESSIONTOKEN";
        const FILE_SECRET: &str = "FileSecretKeyVALUE0123456789";
        const FILE_TOKEN: &str = "FileSessionTokenVALUE";
        const CONFIG_SECRET: &str = "ConfigSecretKeyVALUE";
        let env = AwsEnvironment::from_vars([
            ("AWS_ACCESS_KEY_ID", "AKIAENVKEYID"),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_SESSION_TOKEN", TOKEN),
            ("HOME", "/home/x"),
        ])
        .with_profile("reader");
        let files = SharedFiles {
            config: parse_ini(&format!(
                "[profile reader]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n\
                 [profile cfg]\naws_access_key_id = AKIACONFIGID\naws_secret_access_key = {CONFIG_SECRET}\n"
            )),
            credentials: parse_ini(&format!(
                "[base]\naws_access_key_id = AKIAFILEKEYID\naws_secret_access_key = {FILE_SECRET}\naws_session_token = {FILE_TOKEN}\n"
            )),
            config_name: "config".into(),
            credentials_name: "credentials".into(),
        };
        let chain = ProfileChain::new(env.clone(), files.clone(), "us-east-1");
        let provider = RefreshingCredentials::new(
            chain.clone(),
            "reader",
            AwsCredentials {
                access_key_id: "ASIACURRENTID".into(),
                secret_access_key: SECRET.into(),
                session_token: Some(TOKEN.into()),
                expires: None,
            },
        );
        let shown = [
            format!("{env:?}"),
            format!("{files:?}"),
            format!("{chain:?}"),
            format!("{provider:?}"),
        ];
        for text in &shown {
            for secret in [SECRET, TOKEN, FILE_SECRET, FILE_TOKEN, CONFIG_SECRET] {
                assert!(!text.contains(secret), "{secret} shown in {text}");
            }
        }
        // What is shown is still useful: names, profiles and key ids.
        let [env_text, files_text, chain_text, provider_text] = &shown;
        assert!(
            env_text.contains("AWS_SECRET_ACCESS_KEY")
                && env_text.contains("AKIAENVKEYID")
                && env_text.contains("reader"),
            "{env_text}"
        );
        assert!(
            files_text.contains("base")
                && files_text.contains("AKIAFILEKEYID")
                && files_text.contains("AKIACONFIGID"),
            "{files_text}"
        );
        assert!(
            chain_text.contains("AKIAFILEKEYID") && chain_text.contains("us-east-1"),
            "{chain_text}"
        );
        assert!(
            provider_text.contains("ASIACURRENTID") && provider_text.contains("reader"),
            "{provider_text}"
        );
    }

    #[test]
    fn credentials_debug_hides_the_secret_and_token() {
        let c = AwsCredentials {
            access_key_id: "A".into(),
            secret_access_key: "SECRETVALUE".into(),
            session_token: Some("TOKENVALUE".into()),
            expires: None,
        };
        let shown = format!("{c:?}");
        assert!(shown.contains("\"A\""), "{shown}");
        assert!(
            !shown.contains("SECRETVALUE") && !shown.contains("TOKENVALUE"),
            "{shown}"
        );
    }
}
