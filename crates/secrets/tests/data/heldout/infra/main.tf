terraform {
  required_version = ">= 1.8"
  required_providers {
    aws     = { source = "hashicorp/aws", version = "~> 5.70" }
    datadog = { source = "DataDog/datadog", version = "~> 3.46" }
  }
  cloud {
    organization = "acme"
    workspaces { name = "storefront-prod" }
  }
}

provider "aws" {
  region     = var.region
  access_key = "AKIAJSGHVLVVT36L5NYE"
  secret_key = "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"
}

provider "datadog" {
  api_key = var.datadog_api_key
  app_key = var.datadog_app_key
}

resource "aws_db_instance" "storefront" {
  identifier          = "storefront-prod"
  engine              = "postgres"
  engine_version      = "16.4"
  instance_class      = "db.t4g.medium"
  allocated_storage   = 100
  username            = "storefront"
  password            = "K99Y7ZrhBa+4_W4nPbHvWfV0"
  skip_final_snapshot = false
}

resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = jsonencode({ password = random_password.api.result })
}

resource "random_password" "api" {
  length  = 32
  special = true
}

variable "region" {
  default = "eu-west-1"
}

variable "datadog_api_key" {
  type      = string
  sensitive = true
}

variable "datadog_app_key" {
  type      = string
  sensitive = true
}
