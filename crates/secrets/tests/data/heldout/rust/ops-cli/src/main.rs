use std::env;

use anyhow::{Context, Result};
use reqwest::blocking::Client;
use serde_json::json;

const LINEAR_KEY: &str = "lin_api_P1VuQFaJ4zCk27CMZm6lBZjA4SGUVVACZtYaJ9e6";
const NOTION_TOKEN: &str = "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";
const NOTION_DB: &str = "feea703867110c9e0c029b9c09f05a3a";

fn main() -> Result<()> {
    let title = env::args().nth(1).context("usage: ops-cli TITLE")?;
    let http = Client::new();
    let resp = http
        .post("https://api.linear.app/graphql")
        .header("Authorization", LINEAR_KEY)
        .json(&json!({ "query": "mutation($t: String!) { issueCreate(input: {title: $t, teamId: \"OPS\"}) { success } }", "variables": { "t": title } }))
        .send()?;
    println!("linear: {}", resp.status());

    let token = env::var("NOTION_TOKEN").unwrap_or_else(|_| NOTION_TOKEN.to_string());
    let resp = http
        .post("https://api.notion.com/v1/pages")
        .bearer_auth(token)
        .header("Notion-Version", "2022-06-28")
        .json(&json!({ "parent": { "database_id": NOTION_DB }, "properties": { "Name": { "title": [{ "text": { "content": title } }] } } }))
        .send()?;
    println!("notion: {}", resp.status());
    Ok(())
}
