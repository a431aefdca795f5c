"""Django settings for acme_portal (production overrides live in settings_prod.py)."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# The default key below is only for local runs; production reads DJANGO_SECRET_KEY.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-insecure-change-me")

DEBUG = False
ALLOWED_HOSTS = ["portal.acme.example", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "storages",
    "billing",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "portal",
        "USER": "portal_app",
        "PASSWORD": "Ic59T%koNh0emCVZzkolcJ",
        "HOST": "db-primary.internal",
        "PORT": "5432",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 3600
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]

# S3 media storage
AWS_STORAGE_BUCKET_NAME = "acme-portal-media"
AWS_S3_REGION_NAME = "eu-west-1"
AWS_ACCESS_KEY_ID = "AKIANQGEOCONEWYXAWGD"
AWS_SECRET_ACCESS_KEY = "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"
AWS_S3_SIGNATURE_VERSION = "s3v4"

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "smtp.sendgrid.net"
EMAIL_HOST_USER = "apikey"
EMAIL_HOST_PASSWORD = os.environ["SENDGRID_API_KEY"]
EMAIL_PORT = 587

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = ["https://portal.acme.example"]
