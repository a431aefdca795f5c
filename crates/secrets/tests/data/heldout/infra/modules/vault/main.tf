provider "vault" {
  address = "https://vault.acme.example:8200"
  token   = "hvs.tYEptgBXC1IVPhzqf7gRc4v4"
}

resource "vault_generic_secret" "storefront_db" {
  path = "secret/storefront/db"
  data_json = jsonencode({
    username = "storefront"
    password = var.db_password
  })
}

variable "db_password" {
  type      = string
  sensitive = true
  default   = ""
}
