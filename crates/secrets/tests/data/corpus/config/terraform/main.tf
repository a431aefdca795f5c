terraform {
  cloud {
    organization = "acme"
  }
}

provider "aws" {
  region = "eu-west-1"
  access_key = "AKIAEFZRX57UAF5WEZN3"
  secret_key = "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"
}
variable "db_password" {
  type      = string
  sensitive = true
}
