# frozen_string_literal: true

ShopifyAPI::Context.setup(
  api_key: ENV.fetch("SHOPIFY_API_KEY"),
  api_secret_key: "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",
  host: "https://storefront.acme.example",
  scope: "read_orders,write_products",
  is_embedded: false,
  api_version: "2024-10",
  is_private: true,
  private_shop: "acme-outlet.myshopify.com",
)

ADMIN_ACCESS_TOKEN = "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"

Stripe.api_key = "rk_live_SpNTwCKnQfdjghOeWkyFpitk" # restricted key: charges read, refunds write
Stripe.api_version = "2024-06-20"

Rails.application.config.x.shopify_session = ShopifyAPI::Auth::Session.new(
  shop: "acme-outlet.myshopify.com",
  access_token: ADMIN_ACCESS_TOKEN,
)
