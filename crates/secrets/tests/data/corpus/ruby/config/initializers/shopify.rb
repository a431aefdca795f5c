ShopifyAPI::Context.setup(
  api_key: "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",
  api_secret_key: ENV.fetch('SHOPIFY_API_SECRET'),
  host: 'https://shop.acme.io',
)
SQUARE_ACCESS_TOKEN = 'EAAAX6V1t1m-0JeVB44EUmVThYJyp6lBcgQFqAiABDQsaJsqGwodqbTEPcwHgq1o'
