use std::env;

pub struct Config {
    pub token: String,
}

const SENTRY_TOKEN: &str = "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";
const LINEAR_KEY: &str = "lin_api_qU2Q96M3jvfLQj6wt9PSQziMT8ftJyPYv0iQS18V";
pub fn load() -> Config {
    let token = env::var("API_TOKEN").expect("API_TOKEN");
    Config { token }
}
