//! A test client for the whole application, in process (no socket): real
//! router, real middleware, real store (SQLite or PostgreSQL).

// Each test binary uses a different part of this shared client.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use rampart_auth::{PasswordHasher, TokenKind, new_token, token_digest};
use rampart_core::{Role, ScopeSet};
use rampart_store::testkit::TestStore;
use rampart_web::{AppState, ManualClock, WebConfig};
use std::collections::BTreeMap;
use tower::ServiceExt;

pub const T0: i64 = 1_800_000_000_000;
pub const PASSWORD: &str = "correct horse battery staple";

pub struct App {
    pub router: Router,
    pub store: TestStore,
    pub clock: ManualClock,
    pub hasher: PasswordHasher,
    /// Attachments of this app; removed with it.
    pub files: tempfile::TempDir,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A browser: keeps cookies between requests.
#[derive(Default, Clone)]
pub struct Browser {
    pub cookies: BTreeMap<String, String>,
}

impl App {
    pub async fn new(store: TestStore) -> App {
        Self::with_config(store, WebConfig::default()).await
    }

    pub async fn with_config(store: TestStore, mut config: WebConfig) -> App {
        let files = tempfile::tempdir().unwrap();
        config.attachment_dir = files.path().to_owned();
        let clock = ManualClock::new(T0);
        let hasher = PasswordHasher::fast_for_tests();
        let state = AppState::new(store.store.clone(), config)
            .with_clock(std::sync::Arc::new(clock.clone()))
            .with_hasher(hasher.clone());
        App {
            router: rampart_web::router(state),
            store,
            clock,
            hasher,
            files,
        }
    }

    pub async fn user(&self, email: &str, role: Role) -> i64 {
        let hash = self.hasher.hash(PASSWORD).unwrap();
        self.store
            .create_user(email, role, Some(&hash), T0)
            .await
            .unwrap()
            .id
    }

    pub async fn token(&self, user: Option<i64>, scopes: &str) -> String {
        let t = new_token(TokenKind::Api).unwrap();
        self.store
            .create_api_token(
                user,
                "test",
                &token_digest(&t),
                &ScopeSet::parse(scopes).unwrap(),
                T0,
            )
            .await
            .unwrap();
        t
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn api(&self, method: Method, path: &str, token: &str, body: Option<String>) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        self.send(b.body(Body::from(body.unwrap_or_default())).unwrap())
            .await
    }

    pub async fn get(&self, browser: &mut Browser, path: &str) -> Resp {
        let req = Request::builder()
            .uri(path)
            .header(header::COOKIE, browser.cookie_header())
            .body(Body::empty())
            .unwrap();
        let r = self.send(req).await;
        browser.absorb(&r);
        r
    }

    /// Posts a form as a browser would, with the CSRF token taken from the
    /// page's hidden field (`csrf` in `fields` overrides it).
    pub async fn post_form(
        &self,
        browser: &mut Browser,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Resp {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter().copied())
            .finish();
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, browser.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let r = self.send(req).await;
        browser.absorb(&r);
        r
    }

    /// Posts a multipart form (text fields, then files as
    /// `(field, filename, bytes)`), as a browser does for forms with files.
    pub async fn post_multipart(
        &self,
        browser: &mut Browser,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Resp {
        let boundary = "----rampart-test-boundary-7d3f";
        let mut body: Vec<u8> = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        for (k, name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, browser.cookie_header())
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        let r = self.send(req).await;
        browser.absorb(&r);
        r
    }

    /// Signs in with the password (and TOTP code when asked); returns the browser.
    pub async fn login(&self, email: &str) -> Browser {
        let mut b = Browser::default();
        let page = self.get(&mut b, "/login").await;
        let csrf = csrf_of(&page.body);
        let r = self
            .post_form(
                &mut b,
                "/login",
                &[("csrf", &csrf), ("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "login failed: {}", r.body);
        b
    }
}

impl Browser {
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn absorb(&mut self, r: &Resp) {
        for v in r.headers.get_all(header::SET_COOKIE) {
            let s = v.to_str().unwrap();
            let pair = s.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || s.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
    }
}

/// The CSRF token in a page's forms.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf field in: {html}"))
        + marker.len();
    html[start..start + 64].to_owned()
}
