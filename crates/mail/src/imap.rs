//! Mail in from an IMAP mailbox: a pass selects the folder, takes every
//! message not yet taken through [`Intake`], and only after the intake
//! committed marks it (`\Seen $RampartTaken`), moves it or deletes it. A
//! temporary failure (database down) leaves the message untouched for the next
//! pass; the Message-ID claim makes a crash between "taken" and "marked"
//! harmless (the next pass sees a duplicate and only marks it).
//!
//! [`watch`] repeats passes: it waits with IDLE (RFC 2177) where the server
//! offers it, re-issued at every poll interval so a missed notification costs
//! at most one interval, and polls otherwise; connection failures reconnect
//! with a growing pause.
//!
//! async-imap 0.12 on tokio, TLS by tokio-rustls with ring: the only async
//! IMAP client with IDLE that runs on tokio without async-std; the sync `imap`
//! crate would need a thread per mailbox and brings its own TLS choices.

use crate::auth::Envelope;
use crate::intake::{Intake, IntakeReport};
use async_imap::types::Flag;
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use rampart_core::UnixMillis;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::fmt;
use std::io;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The keyword a taken message carries, so that a person reading the same
/// mailbox (and marking mail `\Seen`) never hides a message from Rampart.
pub const TAKEN_KEYWORD: &str = "$RampartTaken";

/// IDLE is re-issued at least this often (RFC 2177: servers may drop an IDLE
/// after 30 minutes).
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// TLS from the first byte (port 993).
    #[default]
    Imaps,
    /// Plain connection upgraded with STARTTLS before logging in (port 143).
    Starttls,
    /// No TLS at all: only to a server on this machine (the password would
    /// otherwise cross the network in clear).
    NoneLoopbackOnly,
}

impl FromStr for TlsMode {
    type Err = ImapError;
    fn from_str(s: &str) -> Result<Self, ImapError> {
        match s {
            "imaps" => Ok(TlsMode::Imaps),
            "starttls" => Ok(TlsMode::Starttls),
            "none-loopback-only" => Ok(TlsMode::NoneLoopbackOnly),
            other => Err(ImapError::Config(format!(
                "tls = {other:?}: use \"imaps\", \"starttls\" or \"none-loopback-only\""
            ))),
        }
    }
}

/// What happens to a message once it is taken.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum After {
    /// Flag it `\Seen` and `$RampartTaken`; it stays in the folder.
    #[default]
    Flag,
    /// Flag it, then move it to this folder (created when missing).
    Move(String),
    /// Flag it `\Deleted` and expunge it at the end of the pass.
    Delete,
}

impl FromStr for After {
    type Err = ImapError;
    fn from_str(s: &str) -> Result<Self, ImapError> {
        match s {
            "flag" => Ok(After::Flag),
            "delete" => Ok(After::Delete),
            _ => match s.strip_prefix("move:") {
                Some(folder) if !folder.trim().is_empty() => Ok(After::Move(folder.to_owned())),
                _ => Err(ImapError::Config(format!(
                    "after = {s:?}: use \"flag\", \"delete\" or \"move:FOLDER\" (e.g. \"move:Rampart/Taken\")"
                ))),
            },
        }
    }
}

impl fmt::Display for After {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            After::Flag => f.write_str("flag"),
            After::Delete => f.write_str("delete"),
            After::Move(folder) => write!(f, "move:{folder}"),
        }
    }
}

/// One mailbox to take mail from.
#[derive(Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub password: String,
    pub folder: String,
    pub after: After,
    /// Extra trusted CA certificates (PEM), added to the web PKI roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Between passes when the server has no IDLE, and the longest an IDLE
    /// waits before a pass anyway.
    pub poll_interval: Duration,
    /// Use IDLE when the server advertises it.
    pub idle: bool,
    /// Connecting, TLS and each command.
    pub timeout: Duration,
}

impl fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password.
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("folder", &self.folder)
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

impl ImapConfig {
    /// Settings with the defaults: IMAPS on 993, INBOX, flag, a minute.
    pub fn new(host: &str, username: &str, password: &str) -> Self {
        ImapConfig {
            host: host.to_owned(),
            port: 993,
            tls: TlsMode::Imaps,
            username: username.to_owned(),
            password: password.to_owned(),
            folder: "INBOX".into(),
            after: After::Flag,
            ca_pem: None,
            poll_interval: Duration::from_secs(60),
            idle: true,
            timeout: Duration::from_secs(60),
        }
    }

    /// `imaps://user@host:port/Folder` (TLS) or `imap://…` (STARTTLS); the
    /// user may be percent-encoded (`security%40example.com`). The password
    /// never goes in the URL (it would show in process lists).
    pub fn from_url(url: &str, password: &str) -> Result<Self, ImapError> {
        let u = url::Url::parse(url).map_err(|e| {
            ImapError::Config(format!(
                "{url:?} is not a URL ({e}); write imaps://USER@HOST:PORT/FOLDER"
            ))
        })?;
        let (tls, default_port) = match u.scheme() {
            "imaps" => (TlsMode::Imaps, 993),
            "imap" => (TlsMode::Starttls, 143),
            other => {
                return Err(ImapError::Config(format!(
                    "{other}: is not an IMAP URL scheme; use imaps:// (TLS) or imap:// (STARTTLS)"
                )));
            }
        };
        let host = u
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| ImapError::Config(format!("{url:?} names no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let user = percent_decode(u.username());
        if user.is_empty() {
            return Err(ImapError::Config(format!(
                "{url:?} names no user: write imaps://USER@HOST/FOLDER (an @ in the user as %40)"
            )));
        }
        if u.password().is_some() {
            return Err(ImapError::Config(
                "the IMAP URL must not hold the password (it would show in process lists); \
                 give it in a file (--imap-password-file) or RAMPART_IMAP_PASSWORD"
                    .into(),
            ));
        }
        let folder = percent_decode(u.path().trim_start_matches('/'));
        let mut c = ImapConfig::new(&host, &user, password);
        c.tls = tls;
        c.port = u.port().unwrap_or(default_port);
        if !folder.is_empty() {
            c.folder = folder;
        }
        Ok(c)
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(h, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why a pass could not run (the messages it did take stay taken).
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("IMAP settings: {0}")]
    Config(String),
    #[error("could not connect to the IMAP server {addr}: {source}")]
    Connect { addr: String, source: io::Error },
    #[error(
        "TLS with the IMAP server {host} failed: {detail} (is the port the {mode} port? set the CA file if the server's certificate is from a private CA)"
    )]
    Tls {
        host: String,
        mode: &'static str,
        detail: String,
    },
    #[error(
        "the IMAP server refused the login for {user}: {detail} (check the user name and password)"
    )]
    Login { user: String, detail: String },
    #[error("the IMAP folder {folder:?} cannot be opened: {detail}")]
    Folder { folder: String, detail: String },
    #[error("IMAP server: {0}")]
    Protocol(#[from] async_imap::error::Error),
    #[error("the IMAP server did not answer within {0:?}")]
    Timeout(Duration),
}

/// The stream under the IMAP client: plain TCP (before STARTTLS, or to a
/// loopback server) or TLS.
#[derive(Debug)]
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// An open, logged-in session with what the server offers.
pub struct Mailbox {
    session: Session<Conn>,
    idle: bool,
    r#move: bool,
    uidplus: bool,
}

async fn within<T, E>(
    limit: Duration,
    f: impl Future<Output = Result<T, E>>,
) -> Result<T, ImapError>
where
    ImapError: From<E>,
{
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r.map_err(ImapError::from),
        Err(_) => Err(ImapError::Timeout(limit)),
    }
}

fn tls_connector(cfg: &ImapConfig) -> Result<TlsConnector, ImapError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = &cfg.ca_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert =
                cert.map_err(|e| ImapError::Config(format!("the CA file is not PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| ImapError::Config(format!("a CA certificate is unusable: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(ImapError::Config(
                "the CA file holds no certificate (expected PEM, -----BEGIN CERTIFICATE-----)"
                    .into(),
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Config(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

async fn start_tls(cfg: &ImapConfig, tcp: TcpStream) -> Result<Conn, ImapError> {
    let tls_err = |detail: String| ImapError::Tls {
        host: cfg.host.clone(),
        mode: if cfg.tls == TlsMode::Imaps {
            "IMAPS"
        } else {
            "STARTTLS"
        },
        detail,
    };
    let name = ServerName::try_from(cfg.host.clone())
        .map_err(|e| ImapError::Config(format!("host {:?}: {e}", cfg.host)))?;
    let connector = tls_connector(cfg)?;
    match tokio::time::timeout(cfg.timeout, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => Ok(Conn::Tls(Box::new(s))),
        Ok(Err(e)) => Err(tls_err(e.to_string())),
        Err(_) => Err(ImapError::Timeout(cfg.timeout)),
    }
}

/// The server's greeting (after TCP or IMAPS, never after STARTTLS).
async fn greeting(client: &mut Client<Conn>, limit: Duration) -> Result<(), ImapError> {
    match tokio::time::timeout(limit, client.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => Err(ImapError::Protocol(
            async_imap::error::Error::ConnectionLost,
        )),
        Ok(Err(e)) => Err(ImapError::Protocol(e.into())),
        Err(_) => Err(ImapError::Timeout(limit)),
    }
}

/// Connects, protects the connection as configured and logs in.
pub async fn connect(cfg: &ImapConfig) -> Result<Mailbox, ImapError> {
    let addr = format!("{}:{}", cfg.host, cfg.port);
    let resolved: Vec<std::net::SocketAddr> = match tokio::time::timeout(
        cfg.timeout,
        tokio::net::lookup_host((cfg.host.as_str(), cfg.port)),
    )
    .await
    {
        Ok(Ok(a)) => a.collect(),
        Ok(Err(source)) => return Err(ImapError::Connect { addr, source }),
        Err(_) => return Err(ImapError::Timeout(cfg.timeout)),
    };
    if cfg.tls == TlsMode::NoneLoopbackOnly && !resolved.iter().all(|a| a.ip().is_loopback()) {
        return Err(ImapError::Config(format!(
            "tls = \"none-loopback-only\" sends the password in clear, so it is only for a server on \
             this machine; {} is not a loopback address: use \"imaps\" or \"starttls\"",
            cfg.host
        )));
    }
    let tcp = match tokio::time::timeout(cfg.timeout, TcpStream::connect(&resolved[..])).await {
        Ok(Ok(s)) => s,
        Ok(Err(source)) => return Err(ImapError::Connect { addr, source }),
        Err(_) => return Err(ImapError::Timeout(cfg.timeout)),
    };
    let client = match cfg.tls {
        TlsMode::Imaps => {
            let mut c = Client::new(start_tls(cfg, tcp).await?);
            greeting(&mut c, cfg.timeout).await?;
            c
        }
        TlsMode::NoneLoopbackOnly => {
            let mut c = Client::new(Conn::Plain(tcp));
            greeting(&mut c, cfg.timeout).await?;
            c
        }
        TlsMode::Starttls => {
            let mut c = Client::new(Conn::Plain(tcp));
            greeting(&mut c, cfg.timeout).await?;
            within(cfg.timeout, c.run_command_and_check_ok("STARTTLS", None))
                .await
                .map_err(|e| ImapError::Tls {
                    host: cfg.host.clone(),
                    mode: "STARTTLS",
                    detail: format!("the server refused STARTTLS: {e}"),
                })?;
            let Conn::Plain(tcp) = c.into_inner() else {
                unreachable!("the stream before STARTTLS is plain TCP");
            };
            Client::new(start_tls(cfg, tcp).await?)
        }
    };
    let session =
        match tokio::time::timeout(cfg.timeout, client.login(&cfg.username, &cfg.password)).await {
            Ok(Ok(s)) => s,
            Ok(Err((e, _))) => {
                return Err(ImapError::Login {
                    user: cfg.username.clone(),
                    detail: e.to_string(),
                });
            }
            Err(_) => return Err(ImapError::Timeout(cfg.timeout)),
        };
    let mut mb = Mailbox {
        session,
        idle: false,
        r#move: false,
        uidplus: false,
    };
    let caps = within(cfg.timeout, mb.session.capabilities()).await?;
    mb.idle = caps.has_str("IDLE");
    mb.r#move = caps.has_str("MOVE");
    mb.uidplus = caps.has_str("UIDPLUS");
    Ok(mb)
}

impl Mailbox {
    /// Whether the server offers IDLE.
    pub fn has_idle(&self) -> bool {
        self.idle
    }

    /// The session, for commands this module does not issue itself.
    pub fn session(&mut self) -> &mut Session<Conn> {
        &mut self.session
    }

    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }
}

/// What became of one message in a pass.
#[derive(Debug)]
pub enum MessageResult {
    /// Taken by the intake (any outcome: report, comment, ignored, refused,
    /// duplicate), then marked.
    Taken(Box<IntakeReport>),
    /// Not a message (no headers, no From): marked too, so that it is not
    /// tried again at every pass.
    NotMail(String),
    /// A temporary failure: left unmarked for the next pass.
    Left(String),
}

/// One message of a pass.
#[derive(Debug)]
pub struct PassItem {
    pub uid: u32,
    pub size: u32,
    pub result: MessageResult,
}

/// Everything one pass did.
#[derive(Debug, Default)]
pub struct PassSummary {
    pub items: Vec<PassItem>,
}

impl PassSummary {
    /// Messages left for a later pass.
    pub fn left(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i.result, MessageResult::Left(_)))
            .count()
    }
}

fn now_ms() -> UnixMillis {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// One fetch item's data, the stream drained before the next command.
async fn fetch_one(
    session: &mut Session<Conn>,
    uid: u32,
    query: &str,
    limit: Duration,
) -> Result<Option<async_imap::types::Fetch>, ImapError> {
    let fut = async {
        let stream = session.uid_fetch(uid.to_string(), query).await?;
        let all: Vec<_> = stream.try_collect().await?;
        Ok::<_, async_imap::error::Error>(all)
    };
    let all = within(limit, fut).await?;
    // The server may add unsolicited FETCH responses for other messages.
    Ok(all.into_iter().find(|f| f.uid == Some(uid)))
}

async fn store_flags(
    session: &mut Session<Conn>,
    uid: u32,
    flags: &str,
    limit: Duration,
) -> Result<(), ImapError> {
    let fut = async {
        let stream = session
            .uid_store(uid.to_string(), format!("+FLAGS.SILENT ({flags})"))
            .await?;
        let _: Vec<_> = stream.try_collect().await?;
        Ok::<_, async_imap::error::Error>(())
    };
    within(limit, fut).await
}

/// Takes every message of the folder not taken yet. Errors are about the
/// connection; each message's own result is in the summary.
pub async fn pass(
    mb: &mut Mailbox,
    intake: &Intake,
    cfg: &ImapConfig,
) -> Result<PassSummary, ImapError> {
    let limit = cfg.timeout;
    let selected = within(limit, mb.session.select(&cfg.folder))
        .await
        .map_err(|e| ImapError::Folder {
            folder: cfg.folder.clone(),
            detail: e.to_string(),
        })?;
    // Keywords need PERMANENTFLAGS \* (or the keyword already listed);
    // without them, \Seen alone marks a message taken.
    let keywords = selected.permanent_flags.iter().any(|f| match f {
        Flag::MayCreate => true,
        Flag::Custom(k) => k.eq_ignore_ascii_case(TAKEN_KEYWORD),
        _ => false,
    });
    let (query, marks) = if keywords {
        (
            format!("UNDELETED UNKEYWORD {TAKEN_KEYWORD}"),
            format!("\\Seen {TAKEN_KEYWORD}"),
        )
    } else {
        ("UNDELETED UNSEEN".to_owned(), "\\Seen".to_owned())
    };
    let mut uids: Vec<u32> = within(limit, mb.session.uid_search(&query))
        .await?
        .into_iter()
        .collect();
    uids.sort_unstable();
    if let After::Move(folder) = &cfg.after
        && !uids.is_empty()
    {
        // Already there is the usual answer ([ALREADYEXISTS]); a real
        // problem shows at the move.
        let _ = within(limit, mb.session.create(folder)).await;
    }
    let max = intake.config.max_message_bytes;
    let receiver = cfg.host.clone();
    let mut summary = PassSummary::default();
    let mut expunge = Vec::new();
    for uid in uids {
        let Some(head) = fetch_one(&mut mb.session, uid, "(UID RFC822.SIZE)", limit).await? else {
            continue; // expunged meanwhile by someone else
        };
        let size = head.size.unwrap_or(0);
        let total = usize::try_from(size).unwrap_or(usize::MAX);
        // Over the limit: only the header is fetched; the intake decides on
        // it (a polite refusal, or nothing for automatic mail) without the
        // body ever being held in memory.
        let over = max > 0 && total > max;
        let query = if over {
            "(UID BODY.PEEK[HEADER])"
        } else {
            "(UID BODY.PEEK[])"
        };
        let Some(msg) = fetch_one(&mut mb.session, uid, query, limit).await? else {
            continue;
        };
        let raw = if over { msg.header() } else { msg.body() }
            .unwrap_or_default()
            .to_vec();
        let env = Envelope {
            client_ip: None,
            helo: None,
            mail_from: None,
            receiver: receiver.clone(),
        };
        let result = match intake
            .take_sized(&raw, total.max(raw.len()), &env, now_ms())
            .await
        {
            Ok(report) => MessageResult::Taken(Box::new(report)),
            Err(e) if e.is_temporary() => MessageResult::Left(e.to_string()),
            Err(e) => MessageResult::NotMail(e.to_string()),
        };
        if !matches!(result, MessageResult::Left(_)) {
            match &cfg.after {
                After::Flag => store_flags(&mut mb.session, uid, &marks, limit).await?,
                After::Delete => {
                    store_flags(&mut mb.session, uid, &format!("{marks} \\Deleted"), limit).await?;
                    expunge.push(uid);
                }
                After::Move(folder) => {
                    // Marked first: if the move fails half-way, the copy
                    // left behind is not taken again.
                    store_flags(&mut mb.session, uid, &marks, limit).await?;
                    if mb.r#move {
                        within(limit, mb.session.uid_mv(uid.to_string(), folder)).await?;
                    } else {
                        within(limit, mb.session.uid_copy(uid.to_string(), folder)).await?;
                        store_flags(&mut mb.session, uid, "\\Deleted", limit).await?;
                        expunge.push(uid);
                    }
                }
            }
        }
        summary.items.push(PassItem { uid, size, result });
    }
    if !expunge.is_empty() {
        let set = expunge
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let uidplus = mb.uidplus;
        let fut = async {
            // UID EXPUNGE removes only ours; plain EXPUNGE would also remove
            // what someone else flagged \Deleted and meant to keep a while.
            if uidplus {
                let s = mb.session.uid_expunge(&set).await?;
                let _: Vec<_> = s.try_collect().await?;
            } else {
                let s = mb.session.expunge().await?;
                let _: Vec<_> = s.try_collect().await?;
            }
            Ok::<_, async_imap::error::Error>(())
        };
        within(limit, fut).await?;
    }
    // Nothing reads the unsolicited responses; keep the channel empty.
    while mb.session.unsolicited_responses.try_recv().is_ok() {}
    Ok(summary)
}

/// Connects, runs one pass and logs out.
pub async fn run_once(intake: &Intake, cfg: &ImapConfig) -> Result<PassSummary, ImapError> {
    let mut mb = connect(cfg).await?;
    let summary = pass(&mut mb, intake, cfg).await;
    mb.logout().await;
    summary
}

/// Waits for the next change: IDLE when offered, else the poll interval.
/// Returns the mailbox for the next pass, or `None` when `shutdown` came.
async fn wait(
    mb: Mailbox,
    cfg: &ImapConfig,
    shutdown: &mut Pin<&mut impl Future<Output = ()>>,
) -> Result<Option<Mailbox>, ImapError> {
    let interval = cfg.poll_interval.max(Duration::from_secs(1));
    if !(cfg.idle && mb.idle) {
        tokio::select! {
            () = tokio::time::sleep(interval) => return Ok(Some(mb)),
            () = shutdown.as_mut() => {
                mb.logout().await;
                return Ok(None);
            }
        }
    }
    let Mailbox {
        session,
        idle,
        r#move,
        uidplus,
    } = mb;
    let mut handle = session.idle();
    within(cfg.timeout, handle.init()).await?;
    let stopped = {
        let (fut, _stop) = handle.wait_with_timeout(interval.min(IDLE_RENEW));
        tokio::select! {
            r = fut => { r?; false }
            () = shutdown.as_mut() => true,
        }
    };
    if stopped {
        // The connection is dropped in the middle of IDLE; nothing is lost
        // (taking is per message and already committed).
        return Ok(None);
    }
    let session = within(cfg.timeout, handle.done()).await?;
    Ok(Some(Mailbox {
        session,
        idle,
        r#move,
        uidplus,
    }))
}

/// Takes mail until `shutdown` resolves: a pass, then IDLE or a pause, and
/// again. Connection problems are logged and retried with a growing pause
/// (5 seconds doubling to 5 minutes); `on_pass` sees every pass's summary.
pub async fn watch(
    intake: &Intake,
    cfg: &ImapConfig,
    shutdown: impl Future<Output = ()>,
    mut on_pass: impl FnMut(&PassSummary),
) {
    tokio::pin!(shutdown);
    let mut backoff = Duration::from_secs(5);
    loop {
        let result: Result<(), ImapError> = async {
            let mut mb = connect(cfg).await?;
            tracing::info!(host = %cfg.host, folder = %cfg.folder, idle = mb.idle && cfg.idle, "Taking mail from IMAP");
            loop {
                let summary = pass(&mut mb, intake, cfg).await?;
                backoff = Duration::from_secs(5);
                on_pass(&summary);
                match wait(mb, cfg, &mut shutdown).await? {
                    Some(next) => mb = next,
                    None => return Ok(()),
                }
            }
        }
        .await;
        match result {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "IMAP intake failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = shutdown.as_mut() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(300));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_settings() {
        let c = ImapConfig::from_url("imaps://security%40shop.test@mail.shop.test/INBOX", "pw")
            .unwrap();
        assert_eq!(
            (
                c.host.as_str(),
                c.port,
                c.tls,
                c.username.as_str(),
                c.folder.as_str()
            ),
            (
                "mail.shop.test",
                993,
                TlsMode::Imaps,
                "security@shop.test",
                "INBOX"
            )
        );
        let c = ImapConfig::from_url("imap://u@127.0.0.1:1143/Security%20Reports", "pw").unwrap();
        assert_eq!(
            (c.port, c.tls, c.folder.as_str()),
            (1143, TlsMode::Starttls, "Security Reports")
        );
        let c = ImapConfig::from_url("imaps://u@h", "pw").unwrap();
        assert_eq!(c.folder, "INBOX");
    }

    #[test]
    fn bad_urls_say_what_to_write() {
        for (url, needle) in [
            ("http://u@h/INBOX", "imaps://"),
            ("imaps://h/INBOX", "names no user"),
            ("imaps://u:secret@h/INBOX", "must not hold the password"),
            ("not a url", "is not a URL"),
        ] {
            let e = ImapConfig::from_url(url, "").unwrap_err().to_string();
            assert!(e.contains(needle), "{url}: {e}");
        }
    }

    #[test]
    fn after_and_tls_parse() {
        assert_eq!("flag".parse::<After>().unwrap(), After::Flag);
        assert_eq!("delete".parse::<After>().unwrap(), After::Delete);
        assert_eq!(
            "move:Rampart/Taken".parse::<After>().unwrap(),
            After::Move("Rampart/Taken".into())
        );
        assert!("move:".parse::<After>().is_err());
        assert!("archive".parse::<After>().is_err());
        assert_eq!(After::Move("X".into()).to_string(), "move:X");
        assert_eq!(
            "none-loopback-only".parse::<TlsMode>().unwrap(),
            TlsMode::NoneLoopbackOnly
        );
        assert!("tls".parse::<TlsMode>().is_err());
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("a%40b"), "a@b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%C3%A9"), "é");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let c = ImapConfig::new("h", "u", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn clear_text_is_refused_beyond_loopback() {
        let mut c = ImapConfig::new("192.0.2.1", "u", "p");
        c.tls = TlsMode::NoneLoopbackOnly;
        c.port = 143;
        let e = connect(&c).await.err().unwrap().to_string();
        assert!(e.contains("not a loopback address"), "{e}");
    }
}
