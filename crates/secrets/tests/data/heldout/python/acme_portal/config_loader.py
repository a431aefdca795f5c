"""Read service credentials from the environment; nothing secret lives here."""
import configparser
import os

DEFAULTS = {
    "db_password": os.environ.get("DB_PASSWORD", ""),
    "api_key": os.getenv("ACME_API_KEY", "your-api-key"),
    "token": "<YOUR_TOKEN>",
    "smtp_password": "changeme",
}

DSN_TEMPLATE = "postgresql://%(user)s:%(password)s@%(host)s:5432/%(db)s"
REDIS_URL = "redis://:{password}@{host}:6379/0"


def load(path="/etc/acme/portal.ini"):
    cp = configparser.ConfigParser()
    cp.read(path)
    password = cp.get("database", "password", fallback=DEFAULTS["db_password"])
    return DSN_TEMPLATE % {"user": "portal", "password": password, "host": "localhost", "db": "portal"}


def mask(secret: str) -> str:
    return secret[:4] + "*" * (len(secret) - 4) if secret else ""
