//! Small wrappers around the cloud APIs the on-call rotation uses.

pub struct Cloudflare {
    zone: String,
    token: String,
}

impl Cloudflare {
    pub fn from_env() -> Option<Self> {
        Some(Self { zone: std::env::var("CF_ZONE_ID").ok()?, token: std::env::var("CF_API_TOKEN").ok()? })
    }

    /// The legacy global key still used by the purge job on the old account.
    pub fn legacy() -> Self {
        Self { zone: "f3e4ad796fd7e8dfb43ff8a9a9247236".into(), token: "Va3O8Pb6mc4_WMQzEAmBFEDvYI5-uQ96qglc3R8w".into() }
    }

    pub fn purge_url(&self) -> String {
        format!("https://api.cloudflare.com/client/v4/zones/{}/purge_cache", self.zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_url_has_zone() {
        let cf = Cloudflare { zone: "023e105f4ecef8ad9ca31a8372d0c353".into(), token: "test-token".into() };
        assert!(cf.purge_url().contains("023e105f4ecef8ad9ca31a8372d0c353"));
    }
}
