#!/usr/bin/env ruby
# Exchange the GitHub App installation for a token; cache it for 50 minutes.
require "octokit"
require "json"

INSTALLATION_TOKEN = "ghs_4UrZUI6xA9rPGTDzuIWBUO3f8HIHov3wRvNa" # cached by the last run, expires hourly
REFRESH_TOKEN = "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"
APP_ID = 812_344
WEBHOOK_DELIVERY = "c916a3a3-e8e5-4ed4-b24a-632c09685b2b"

client = Octokit::Client.new(access_token: ENV.fetch("GH_INSTALLATION_TOKEN", INSTALLATION_TOKEN))
puts JSON.pretty_generate(client.rate_limit.to_h)
