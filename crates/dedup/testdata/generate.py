#!/usr/bin/env python3
"""Generates the labelled duplicate set for rampart-dedup (testdata/labelled.json).

Each programme has a catalogue of endpoints and subdomains; each *bug* is one weakness on one
of them. A bug's first report is its original; some bugs are re-reported later by another
"researcher" who describes the same thing differently: another title, another payload, another
id in the path, another way of writing the URL (absolute, request dump, inline path, locale
prefix, upper-case host, or no URL at all), sometimes another CWE or no asset. Bugs are chosen
so that the set is full of hard negatives: the same weakness on another endpoint of the same
programme, and another weakness on the same endpoint. Some duplicates match a known issue the
team registered before any report.

Run: python3 crates/dedup/testdata/generate.py > crates/dedup/testdata/labelled.json
The output is deterministic for a given --seed (default 20261201).
"""

import argparse
import json
import random
import sys

# --------------------------------------------------------------------------------------------
# Programmes: assets and endpoint catalogues.
# Endpoint: (key, asset, host, method, path, params, phrase, classes)
#   path uses {id} for an identifier; phrase is how a researcher names it in prose.
# --------------------------------------------------------------------------------------------

XSS_R, XSS_S, SQLI, IDOR, SSRF, REDIR, CSRF, AUTH, INFO, TAKEOVER, RATE, CORS, TRAVERSAL, XXE = (
    "xss_reflected", "xss_stored", "sqli", "idor", "ssrf", "open_redirect", "csrf",
    "auth_bypass", "info_disclosure", "subdomain_takeover", "rate_limit", "cors",
    "path_traversal", "xxe",
)

PROGRAMMES = [
    {
        "id": 1, "slug": "shopfront", "name": "Shopfront",
        "assets": ["shop.example.com", "api.shop.example.com", "com.shopfront.android",
                   "*.shop.example.com"],
        "endpoints": [
            ("search", "shop.example.com", "shop.example.com", "GET", "/search", ["q", "category"], "product search page", [XSS_R, SQLI]),
            ("help_search", "shop.example.com", "shop.example.com", "GET", "/help/search", ["q"], "help centre search", [XSS_R]),
            ("reviews", "api.shop.example.com", "api.shop.example.com", "POST", "/v1/products/{id}/reviews", ["body", "rating"], "product review submission", [XSS_S, CSRF]),
            ("invoice", "api.shop.example.com", "api.shop.example.com", "GET", "/v2/orders/{id}/invoice", ["format"], "order invoice download", [IDOR, TRAVERSAL]),
            ("addresses", "api.shop.example.com", "api.shop.example.com", "GET", "/v2/customers/{id}/addresses", [], "saved addresses API", [IDOR]),
            ("coupon", "shop.example.com", "shop.example.com", "POST", "/checkout/coupon", ["code"], "coupon redemption at checkout", [RATE, SQLI]),
            ("login", "shop.example.com", "shop.example.com", "POST", "/account/login", ["email", "password"], "login form", [RATE, AUTH]),
            ("logout", "shop.example.com", "shop.example.com", "GET", "/account/logout", ["return_to"], "logout flow", [REDIR]),
            ("img_proxy", "shop.example.com", "shop.example.com", "GET", "/img/proxy", ["url"], "image proxy", [SSRF, XSS_R]),
            ("profile", "shop.example.com", "shop.example.com", "POST", "/account/profile", ["display_name", "avatar_url"], "profile settings", [CSRF, XSS_S]),
            ("actuator", "api.shop.example.com", "api.shop.example.com", "GET", "/actuator/env", [], "Spring actuator endpoint", [INFO]),
            ("blog", "*.shop.example.com", "blog.shop.example.com", "GET", "/", [], "blog subdomain", [TAKEOVER]),
            ("promo", "*.shop.example.com", "promo.shop.example.com", "GET", "/", [], "promo subdomain", [TAKEOVER]),
            ("cart_api", "api.shop.example.com", "api.shop.example.com", "GET", "/v1/cart", [], "cart API", [CORS]),
            ("gift_cards", "shop.example.com", "shop.example.com", "POST", "/account/gift-cards/redeem", ["card_number", "pin"], "gift card redemption", [RATE, CSRF]),
            ("order_notes", "api.shop.example.com", "api.shop.example.com", "PUT", "/v2/orders/{id}/notes", ["note"], "order notes", [XSS_S, IDOR]),
            ("store_locator", "shop.example.com", "shop.example.com", "GET", "/stores/near", ["postcode", "radius"], "store locator", [SQLI, XSS_R]),
        ],
    },
    {
        "id": 2, "slug": "ledgerly", "name": "Ledgerly",
        "assets": ["app.ledgerly.io", "api.ledgerly.io", "Ledgerly iOS app",
                   "github.com/ledgerly/ledgerly-web"],
        "endpoints": [
            ("invoices", "api.ledgerly.io", "api.ledgerly.io", "GET", "/api/invoices/{id}", [], "invoice API", [IDOR]),
            ("invoice_pdf", "api.ledgerly.io", "api.ledgerly.io", "GET", "/api/invoices/{id}/pdf", ["template"], "invoice PDF renderer", [SSRF, IDOR]),
            ("payees", "app.ledgerly.io", "app.ledgerly.io", "POST", "/settings/payees", ["iban", "name"], "payee management", [CSRF, XSS_S]),
            ("reports", "app.ledgerly.io", "app.ledgerly.io", "GET", "/reports/export", ["from", "to", "sort"], "report export", [SQLI]),
            ("txsearch", "app.ledgerly.io", "app.ledgerly.io", "GET", "/transactions", ["search", "sort"], "transaction search", [SQLI, XSS_R]),
            ("mfa", "app.ledgerly.io", "app.ledgerly.io", "POST", "/auth/mfa/verify", ["code"], "two-factor code verification", [RATE, AUTH]),
            ("sso", "app.ledgerly.io", "app.ledgerly.io", "GET", "/auth/sso/callback", ["next", "state"], "SSO callback", [REDIR]),
            ("oauth", "app.ledgerly.io", "app.ledgerly.io", "GET", "/oauth/authorize", ["redirect_uri", "client_id"], "OAuth authorize endpoint", [REDIR]),
            ("webhooks", "api.ledgerly.io", "api.ledgerly.io", "POST", "/api/webhooks", ["url", "events"], "webhook configuration", [SSRF]),
            ("members", "api.ledgerly.io", "api.ledgerly.io", "DELETE", "/api/orgs/{id}/members/{id}", [], "organisation member removal", [IDOR, CSRF]),
            ("env", "github.com/ledgerly/ledgerly-web", "github.com", "GET", "/ledgerly/ledgerly-web/blob/main/.env.example", [], "public web repository", [INFO]),
            ("graphql", "api.ledgerly.io", "api.ledgerly.io", "POST", "/graphql", ["query"], "GraphQL API", [INFO, CORS]),
            ("docs", "app.ledgerly.io", "docs.ledgerly.io", "GET", "/", [], "docs subdomain", [TAKEOVER]),
            ("receipts", "api.ledgerly.io", "api.ledgerly.io", "POST", "/api/receipts/scan", ["image_url"], "receipt scanner", [SSRF, XXE]),
            ("invite", "app.ledgerly.io", "app.ledgerly.io", "POST", "/team/invite", ["email", "role"], "team invitation", [CSRF, AUTH]),
            ("customers", "app.ledgerly.io", "app.ledgerly.io", "GET", "/customers", ["q", "page"], "customer list search", [XSS_R, SQLI]),
        ],
    },
    {
        "id": 3, "slug": "medicloud", "name": "MediCloud",
        "assets": ["portal.medicloud.health", "api.medicloud.health", "203.0.113.0/24"],
        "endpoints": [
            ("appointments", "api.medicloud.health", "api.medicloud.health", "GET", "/v1/patients/{id}/appointments", [], "appointments API", [IDOR]),
            ("labresults", "api.medicloud.health", "api.medicloud.health", "GET", "/v1/lab-results/{id}", ["download"], "lab results download", [IDOR, TRAVERSAL]),
            ("messages", "portal.medicloud.health", "portal.medicloud.health", "POST", "/messages/send", ["subject", "body"], "secure messaging", [XSS_S, CSRF]),
            ("doctor_search", "portal.medicloud.health", "portal.medicloud.health", "GET", "/doctors", ["name", "specialty"], "doctor search", [SQLI, XSS_R]),
            ("reset", "portal.medicloud.health", "portal.medicloud.health", "POST", "/password/forgot", ["email"], "password reset", [RATE, AUTH]),
            ("upload", "api.medicloud.health", "api.medicloud.health", "POST", "/v1/documents/import", ["file"], "document import", [XXE]),
            ("fhir", "api.medicloud.health", "api.medicloud.health", "GET", "/fhir/Patient", ["identifier", "_format"], "FHIR patient search", [SQLI, INFO]),
            ("login", "portal.medicloud.health", "portal.medicloud.health", "GET", "/login", ["redirect"], "login page", [REDIR]),
            ("jenkins", "203.0.113.0/24", "203.0.113.17", "GET", "/script", [], "Jenkins server", [AUTH, INFO]),
            ("status", "portal.medicloud.health", "status.medicloud.health", "GET", "/", [], "status page subdomain", [TAKEOVER]),
            ("prescriptions", "api.medicloud.health", "api.medicloud.health", "GET", "/v1/prescriptions/{id}", [], "prescriptions API", [IDOR]),
            ("profile", "portal.medicloud.health", "portal.medicloud.health", "POST", "/profile/update", ["phone", "email"], "profile update", [CSRF, XSS_S]),
        ],
    },
    {
        "id": 4, "slug": "streamly", "name": "Streamly",
        "assets": ["www.streamly.tv", "api.streamly.tv", "cdn.streamly.tv"],
        "endpoints": [
            ("watch", "www.streamly.tv", "streamly.tv", "GET", "/watch/{id}", ["t", "list"], "video watch page", [XSS_R]),
            ("comments", "api.streamly.tv", "api.streamly.tv", "POST", "/v3/videos/{id}/comments", ["text"], "video comments", [XSS_S, RATE]),
            ("playlists", "api.streamly.tv", "api.streamly.tv", "PATCH", "/v3/playlists/{id}", ["title", "privacy"], "playlist update API", [IDOR, CSRF]),
            ("subs", "api.streamly.tv", "api.streamly.tv", "GET", "/v3/users/{id}/subscriptions", [], "subscriptions API", [IDOR, INFO]),
            ("thumb", "api.streamly.tv", "api.streamly.tv", "POST", "/v3/thumbnails/fetch", ["source_url"], "thumbnail fetcher", [SSRF]),
            ("embed", "www.streamly.tv", "streamly.tv", "GET", "/embed/{id}", ["origin"], "embed player", [XSS_R, CORS]),
            ("gift", "www.streamly.tv", "streamly.tv", "POST", "/gift/redeem", ["code"], "gift card redemption", [RATE, SQLI]),
            ("logout", "www.streamly.tv", "streamly.tv", "GET", "/signout", ["continue"], "sign-out", [REDIR]),
            ("settings_email", "www.streamly.tv", "streamly.tv", "POST", "/account/email", ["email"], "e-mail change", [CSRF, AUTH]),
            ("cdn_origin", "cdn.streamly.tv", "cdn.streamly.tv", "GET", "/assets/{id}", ["path"], "CDN asset path", [TRAVERSAL, INFO]),
            ("creators", "www.streamly.tv", "creators.streamly.tv", "GET", "/", [], "creators subdomain", [TAKEOVER]),
            ("channel_about", "www.streamly.tv", "streamly.tv", "POST", "/studio/channel/about", ["description"], "channel description editor", [XSS_S, CSRF]),
            ("search", "www.streamly.tv", "streamly.tv", "GET", "/results", ["search_query"], "video search", [XSS_R, SQLI]),
        ],
    },
    {
        "id": 5, "slug": "devhub", "name": "DevHub",
        "assets": ["devhub.dev", "api.devhub.dev", "AWS account 123456789012"],
        "endpoints": [
            ("repo_import", "devhub.dev", "devhub.dev", "POST", "/import/repository", ["clone_url"], "repository import", [SSRF]),
            ("ci_logs", "api.devhub.dev", "api.devhub.dev", "GET", "/v1/pipelines/{id}/logs", [], "CI pipeline logs", [IDOR, INFO]),
            ("issues", "devhub.dev", "devhub.dev", "POST", "/{id}/{id}/issues", ["title", "body"], "issue tracker", [XSS_S, CSRF]),
            ("code_search", "devhub.dev", "devhub.dev", "GET", "/search/code", ["q", "lang"], "code search", [XSS_R, SQLI]),
            ("tokens", "api.devhub.dev", "api.devhub.dev", "POST", "/v1/tokens", ["scopes", "name"], "personal access tokens", [AUTH, CSRF]),
            ("deploy_keys", "api.devhub.dev", "api.devhub.dev", "GET", "/v1/projects/{id}/deploy_keys", [], "deploy keys API", [IDOR]),
            ("login", "devhub.dev", "devhub.dev", "POST", "/session", ["login", "password"], "sign-in", [RATE]),
            ("oauth", "devhub.dev", "devhub.dev", "GET", "/login/oauth/authorize", ["redirect_uri"], "OAuth app authorisation", [REDIR]),
            ("artifacts", "AWS account 123456789012", "devhub-artifacts.s3.amazonaws.com", "GET", "/", [], "build artifacts S3 bucket", [INFO]),
            ("wiki_render", "devhub.dev", "devhub.dev", "POST", "/api/markdown/render", ["text"], "Markdown preview", [XSS_S, SSRF]),
            ("pages", "devhub.dev", "pages.devhub.dev", "GET", "/", [], "pages subdomain", [TAKEOVER]),
            ("webhooks", "api.devhub.dev", "api.devhub.dev", "POST", "/v1/projects/{id}/hooks", ["url"], "project webhooks", [SSRF, IDOR]),
            ("user_search", "devhub.dev", "devhub.dev", "GET", "/search/users", ["q"], "user search", [XSS_R]),
        ],
    },
    {
        "id": 6, "slug": "civicid", "name": "CivicID",
        "assets": ["id.civic.example", "api.civic.example", "CivicID Android app"],
        "endpoints": [
            ("authorize", "id.civic.example", "id.civic.example", "GET", "/oauth2/authorize", ["redirect_uri", "response_type"], "OAuth2 authorize endpoint", [REDIR, AUTH]),
            ("userinfo", "api.civic.example", "api.civic.example", "GET", "/oauth2/userinfo", [], "userinfo endpoint", [INFO, CORS]),
            ("otp", "id.civic.example", "id.civic.example", "POST", "/verify/sms", ["otp"], "SMS verification", [RATE, AUTH]),
            ("documents", "api.civic.example", "api.civic.example", "GET", "/v2/citizens/{id}/documents", [], "citizen documents API", [IDOR]),
            ("address", "id.civic.example", "id.civic.example", "POST", "/profile/address", ["street", "postcode"], "address change form", [CSRF, XSS_S]),
            ("lookup", "api.civic.example", "api.civic.example", "GET", "/v2/lookup", ["postcode", "street"], "postcode lookup", [SQLI, XSS_R]),
            ("avatar", "id.civic.example", "id.civic.example", "POST", "/profile/avatar/from-url", ["image_url"], "avatar upload from URL", [SSRF]),
            ("consents", "api.civic.example", "api.civic.example", "DELETE", "/v2/consents/{id}", [], "consent revocation", [IDOR, CSRF]),
            ("saml", "id.civic.example", "id.civic.example", "POST", "/saml/acs", ["SAMLResponse"], "SAML assertion consumer", [AUTH, XXE]),
            ("help", "id.civic.example", "help.civic.example", "GET", "/", [], "help-centre subdomain", [TAKEOVER]),
            ("password", "id.civic.example", "id.civic.example", "POST", "/profile/password", ["new_password"], "password change", [CSRF, RATE]),
            ("logout", "id.civic.example", "id.civic.example", "GET", "/logout", ["post_logout_redirect_uri"], "logout endpoint", [REDIR]),
        ],
    },
    {
        "id": 7, "slug": "travelnest", "name": "TravelNest",
        "assets": ["travelnest.example", "partners.travelnest.example", "TravelNest iOS app"],
        "endpoints": [
            ("bookings", "travelnest.example", "travelnest.example", "GET", "/api/bookings/{id}", [], "booking details API", [IDOR]),
            ("booking_cancel", "travelnest.example", "travelnest.example", "POST", "/api/bookings/{id}/cancel", ["reason"], "booking cancellation", [IDOR, CSRF]),
            ("hotel_search", "travelnest.example", "travelnest.example", "GET", "/hotels/search", ["city", "checkin", "sort"], "hotel search", [SQLI, XSS_R]),
            ("reviews", "travelnest.example", "travelnest.example", "POST", "/hotels/{id}/reviews", ["comment"], "hotel reviews", [XSS_S]),
            ("partner_login", "partners.travelnest.example", "partners.travelnest.example", "POST", "/login", ["username", "password"], "partner portal login", [RATE, AUTH]),
            ("rates_upload", "partners.travelnest.example", "partners.travelnest.example", "POST", "/rates/upload", ["file"], "rates file upload", [XXE, TRAVERSAL]),
            ("redirect", "travelnest.example", "travelnest.example", "GET", "/out", ["url"], "outbound link redirector", [REDIR, SSRF]),
            ("loyalty", "travelnest.example", "travelnest.example", "POST", "/loyalty/transfer", ["points", "to_member"], "loyalty points transfer", [CSRF, RATE]),
            ("debug", "partners.travelnest.example", "partners.travelnest.example", "GET", "/debug/vars", [], "debug endpoint", [INFO]),
            ("deals", "travelnest.example", "deals.travelnest.example", "GET", "/", [], "deals subdomain", [TAKEOVER]),
            ("itinerary", "travelnest.example", "travelnest.example", "GET", "/trips/{id}/itinerary.pdf", [], "itinerary PDF", [IDOR, SSRF]),
            ("newsletter", "travelnest.example", "travelnest.example", "POST", "/newsletter/subscribe", ["email"], "newsletter signup", [RATE, XSS_S]),
        ],
    },
]

CWES = {
    XSS_R: [79, 79, 79, 80],
    XSS_S: [79, 79, 79, 116],
    SQLI: [89, 89, 89, 943],
    IDOR: [639, 639, 284, 862, 863],
    SSRF: [918, 918, 918],
    REDIR: [601, 601, 601],
    CSRF: [352, 352, 352],
    AUTH: [287, 306, 288, 287],
    INFO: [200, 200, 538, 209, 532],
    TAKEOVER: [284, 350, None],
    RATE: [307, 770, 799, 307],
    CORS: [942, 942, 346],
    TRAVERSAL: [22, 22, 23],
    XXE: [611, 611],
}

XSS_PAYLOADS = [
    '"><script>alert(document.domain)</script>', "<svg/onload=alert(1)>",
    "'-alert(1)-'", '"><img src=x onerror=alert(document.cookie)>',
    "javascript:alert(1)", "<details open ontoggle=confirm(1)>",
    "</textarea><script>prompt(1)</script>", "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
]
SQLI_PAYLOADS = [
    "' OR '1'='1", "1' AND SLEEP(5)-- -", "1) UNION SELECT null,version(),null--",
    "'||pg_sleep(10)--", "1' AND extractvalue(1,concat(0x7e,user()))-- ", "name' ORDER BY 9-- ",
    "\\' waitfor delay '0:0:5'--",
]
SSRF_TARGETS = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://127.0.0.1:6379/", "http://localhost:8080/admin",
    "https://x7k2.oastify.com/ssrf", "http://[::1]:22/", "gopher://127.0.0.1:11211/_stats",
]
REDIR_TARGETS = [
    "https://evil.com", "//evil.com/%2f..", "https://attacker.example.net/phish",
    "https:/\\evil.com", "//google.com", "https://trusted.host.evil.com",
]
TRAVERSAL_PAYLOADS = ["../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd",
                      "....//....//etc/passwd", "..\\..\\..\\windows\\win.ini"]

RESEARCHER_OPENERS = [
    "Hi team,", "Hello security team,", "Hey,", "", "", "Greetings,",
    "Dear triager,", "", "Hi there,",
]

IMPACTS = {
    XSS_R: [
        "An attacker can run arbitrary JavaScript in a victim's session by sending them a link, steal data shown on the page and perform actions as the victim.",
        "Session riding: the script runs on the {host} origin, so anything the victim can do, the attacker can do.",
        "Account takeover is possible by chaining this with the lack of HttpOnly on some cookies.",
    ],
    XSS_S: [
        "Every user who views the content executes the attacker's script, which makes it wormable.",
        "Stored script execution on the {host} origin; staff viewing it in the back office are also affected.",
        "The payload persists and fires for every visitor, allowing mass session hijacking.",
    ],
    SQLI: [
        "Full read access to the database, including customer records and password hashes.",
        "An attacker can extract data with time-based techniques; sqlmap confirmed the DBMS.",
        "Database compromise and possibly remote code execution depending on DB privileges.",
    ],
    IDOR: [
        "Any authenticated user can read other users' data by changing the identifier.",
        "Mass exposure of personal data: ids are sequential, so the whole table can be enumerated.",
        "Horizontal privilege escalation affecting every customer.",
    ],
    SSRF: [
        "The server can be made to reach internal services and the cloud metadata endpoint, leaking credentials.",
        "Internal network scanning and access to services that are not exposed to the internet.",
        "Reading cloud instance credentials leads to full compromise of the account.",
    ],
    REDIR: [
        "Phishing: users trust the link because it starts with the real domain.",
        "Can be chained with OAuth to leak authorization codes or tokens to an attacker domain.",
        "Users get sent to a malicious site after a trusted page.",
    ],
    CSRF: [
        "An attacker page can change the victim's data without their consent.",
        "A malicious website can perform this state-changing action on behalf of a logged-in user.",
        "Combined with social engineering this leads to unwanted changes on the victim's account.",
    ],
    AUTH: [
        "An attacker can access accounts or functions without valid credentials.",
        "Complete bypass of the authentication step.",
        "Account takeover without user interaction.",
    ],
    INFO: [
        "Secrets and internal details are exposed to anyone on the internet.",
        "Leaked credentials and configuration help further attacks.",
        "Sensitive information disclosure.",
    ],
    TAKEOVER: [
        "An attacker can serve arbitrary content on a trusted subdomain, steal cookies scoped to the parent domain and phish users.",
        "Full control over the subdomain's content.",
        "Cookie theft and phishing from an official subdomain.",
    ],
    RATE: [
        "The code space can be brute forced in a reasonable time.",
        "Brute force and credential stuffing are unrestricted.",
        "Abuse at scale: no lockout, no CAPTCHA, no throttling.",
    ],
    CORS: [
        "Any website can read authenticated responses, including personal data, from a victim's browser.",
        "Cross-origin data theft of the logged-in user's information.",
        "A malicious origin can read the API's responses with the victim's cookies.",
    ],
    TRAVERSAL: [
        "Arbitrary file read on the server.",
        "Reading server files such as configuration and credentials.",
        "Local file disclosure, which can expose secrets and source code.",
    ],
    XXE: [
        "Arbitrary file read and SSRF through external entities.",
        "Reading local files from the server and reaching internal hosts.",
        "XXE leads to disclosure of server files and possibly denial of service.",
    ],
}


class Writer:
    """Writes one report of a bug in one researcher's style."""

    def __init__(self, rng, programme, endpoint, klass, style, url_form):
        self.rng = rng
        self.p = programme
        (self.key, self.asset, self.host, self.method, self.path, self.params, self.phrase,
         _classes) = endpoint
        self.phrase = rephrase(rng, self.phrase)
        self.klass = klass
        self.style = style
        self.url_form = url_form
        self.param = self.pick_param()

    def pick_param(self):
        if not self.params:
            return None
        return self.params[0] if self.rng.random() < 0.8 else self.rng.choice(self.params)

    # ---- URL forms -------------------------------------------------------------------------
    def concrete_path(self):
        out = self.path
        while "{id}" in out:
            kind = self.rng.random()
            if kind < 0.6:
                value = str(self.rng.randint(10, 999999))
            elif kind < 0.8:
                value = "%08x-%04x-4%03x-a%03x-%012x" % tuple(
                    self.rng.getrandbits(b) for b in (32, 16, 12, 12, 48))
            else:
                value = self.rng.choice(["acme", "jdoe", "team-blue", "r4nd0m"])
            out = out.replace("{id}", value, 1)
        return out

    def placeholder_path(self):
        style = self.rng.choice([":id", "{id}", "{ID}", "123"])
        if style == "123":
            return self.concrete_path()
        return self.path.replace("{id}", style)

    def host_variant(self):
        host = self.host
        if self.url_form == "upper_host":
            host = host.upper() if self.rng.random() < 0.5 else host.capitalize()
        if self.url_form == "www" and host.count(".") == 1:
            host = "www." + host
        return host

    def query(self, value):
        if self.param is None or self.method != "GET":
            return ""
        others = [p for p in self.params if p != self.param]
        pairs = [(self.param, value)]
        if others and self.rng.random() < 0.5:
            pairs.append((self.rng.choice(others), self.rng.choice(["1", "asc", "test", "en"])))
            self.rng.shuffle(pairs)
        return "?" + "&".join(f"{k}={v}" for k, v in pairs)

    def locale(self):
        return self.rng.choice(["/en", "/en-gb", "/fr", "/de-de"]) if self.url_form == "locale" else ""

    def url(self, value="test"):
        path = self.concrete_path()
        if path == "/":
            path = "/" if self.rng.random() < 0.5 else ""
        slash = "/" if self.url_form == "trailing_slash" and path not in ("", "/") else ""
        return f"https://{self.host_variant()}{self.locale()}{path}{slash}{self.query(value)}"

    def where(self, value="test"):
        """A sentence or block that says where the bug is, in this report's URL form."""
        form = self.url_form
        if form == "prose":
            return f"the {self.phrase}"
        if form == "inline":
            return f"the `{self.method} {self.placeholder_path()}` endpoint ({self.phrase})"
        if form == "request":
            return f"the {self.phrase}:\n\n" + self.request_block(value) + "\n"
        return f"the {self.phrase} at {self.url(value)}"

    def request_block(self, value="test"):
        path = self.concrete_path() + self.query(value)
        lines = [f"{self.method} {self.locale()}{path} HTTP/1.1", f"Host: {self.host_variant()}",
                 "Cookie: session=" + "%032x" % self.rng.getrandbits(128)]
        if self.method != "GET" and self.params:
            body = "&".join(f"{p}={value if p == self.param else 'x'}" for p in self.params)
            lines += ["Content-Type: application/x-www-form-urlencoded", "", body]
        return "```http\n" + "\n".join(lines) + "\n```"

    def pname(self):
        return f"`{self.param}`" if self.param else "the input"

    # ---- text helpers -------------------------------------------------------------------------
    def opener(self):
        o = self.rng.choice(RESEARCHER_OPENERS)
        return (o + "\n\n") if o else ""

    def impact(self):
        return self.rng.choice(IMPACTS[self.klass]).format(host=self.host)

    def steps(self, items):
        # An item is a sentence or a list of ways to say it.
        items = [self.rng.choice(i) if isinstance(i, list) else i for i in items]
        if self.style == "terse":
            return " ".join(items)
        return "\n".join(f"{i + 1}. {s}" for i, s in enumerate(items))

    def assemble(self, summary, steps, extra=""):
        impact = self.impact()
        if self.style == "terse":
            return f"{summary}\n\n{steps}\n\nImpact: {impact}{extra}"
        if self.style == "narrative":
            return (f"{self.opener()}{summary}\n\n{steps}\n\n{extra.strip()}\n\n"
                    f"In terms of impact: {impact}").strip()
        return (f"{self.opener()}## Summary\n\n{summary}\n\n## Steps to reproduce\n\n{steps}\n\n"
                f"{extra.strip()}\n\n## Impact\n\n{impact}").strip()

    # ---- per weakness --------------------------------------------------------------------------
    def write(self):
        return getattr(self, "w_" + self.klass)()

    def w_xss_reflected(self):
        payload = self.rng.choice(XSS_PAYLOADS)
        t = self.rng.choice([
            f"Reflected XSS in {self.phrase}",
            f"Reflected cross-site scripting via {self.param or 'input'} parameter",
            f"XSS on {self.host}{self.path if self.path != '/' else ''}",
            f"Unsanitised {self.param or 'input'} reflected on {self.phrase} leads to script execution",
            f"Cross Site Scripting (reflected) - {self.phrase}",
        ])
        summary = self.rng.choice([
            f"The {self.pname()} parameter of {self.where(payload)} is reflected into the HTML without encoding.",
            f"I found that {self.where(payload)} echoes {self.pname()} back inside the page, so a crafted link executes JavaScript.",
            f"Input passed in {self.pname()} on {self.where(payload)} ends up in the response unescaped.",
        ])
        steps = self.steps([
            f"Open the link with the payload `{payload}` in {self.pname()}.",
            ["Observe the alert box firing on the page.", "A JavaScript dialog pops up.",
             "The payload executes in the page context (see screenshot).", "alert() fires."],
            ["Any logged-in victim who clicks the link is affected.", "Send the URL to a victim.",
             "Works in Chrome and Firefox, no WAF in the way.", ""],
        ])
        return t, self.assemble(summary, steps)

    def w_xss_stored(self):
        payload = self.rng.choice(XSS_PAYLOADS)
        t = self.rng.choice([
            f"Stored XSS in {self.phrase}",
            f"Persistent XSS through the {self.param or 'text'} field",
            f"Stored cross-site scripting: {self.param or 'content'} is rendered as HTML",
            f"Script injection saved in {self.phrase} fires for every viewer",
            f"Stored XSS via {self.method} {self.path}",
        ])
        summary = self.rng.choice([
            f"Content submitted to {self.where(payload)} is stored and later rendered without sanitisation.",
            f"The {self.pname()} value sent to {self.where(payload)} is saved and shown to other users as raw HTML.",
            f"I was able to persist a script payload through {self.where(payload)}.",
        ])
        steps = self.steps([
            f"Submit `{payload}` as {self.pname()}.",
            ["Log in as a second user and open the page where the content is displayed.",
             "Open the page as another account.", "View it from a different browser session.",
             "Wait for someone (or an admin) to view it."],
            ["The script executes in the second user's browser.", "The payload fires.",
             "Alert pops for the viewer.", "JavaScript runs for whoever loads it."],
        ])
        return t, self.assemble(summary, steps)

    def w_sqli(self):
        payload = self.rng.choice(SQLI_PAYLOADS)
        t = self.rng.choice([
            f"SQL injection in {self.phrase}",
            f"SQLi via {self.param or 'input'} parameter",
            f"Time-based blind SQL injection on {self.path}",
            f"Database injection through {self.param or 'a'} parameter of {self.phrase}",
            f"Error-based SQL injection - {self.host}",
        ])
        summary = self.rng.choice([
            f"The {self.pname()} parameter of {self.where(payload)} is concatenated into a SQL query.",
            f"Injecting a quote into {self.pname()} on {self.where(payload)} breaks the query, and boolean/time payloads confirm injection.",
            f"{self.where(payload)[0].upper() + self.where(payload)[1:]} is vulnerable to SQL injection in {self.pname()}.",
        ])
        delay = self.rng.choice([5, 10, 7])
        steps = self.steps([
            f"Send the request with {self.pname()} set to `{payload}`.",
            [f"The response is delayed by about {delay} seconds (or returns a database error).",
             f"It takes {delay}s to answer, versus 200ms normally.",
             "A MySQL/PostgreSQL syntax error comes back in the body.",
             "Boolean conditions change the number of results."],
            f"sqlmap: `sqlmap -u '{self.url('1')}' -p {self.param or 'id'} --batch --dbs`",
        ])
        return t, self.assemble(summary, steps)

    def w_idor(self):
        a, b = self.rng.randint(1000, 99999), self.rng.randint(1000, 99999)
        t = self.rng.choice([
            f"IDOR in {self.phrase}",
            f"Insecure direct object reference: access other users' data via {self.path}",
            f"Broken access control on {self.phrase} allows reading other accounts",
            f"Authorization missing when requesting another user's data from the {self.phrase}",
            f"BOLA: {self.method} {self.placeholder_path()} does not check ownership",
        ])
        summary = self.rng.choice([
            f"{self.where()[0].upper() + self.where()[1:]} returns the object for any id, without checking that it belongs to the caller.",
            f"By changing the numeric identifier in {self.where()}, user A can access user B's records.",
            f"There is no ownership check on {self.where()}.",
        ])
        steps = self.steps([
            [f"Log in as user A (id {a}) and user B (id {b}).", "Create two accounts, attacker and victim.",
             f"Sign up twice; note the victim's id ({b}).", "Use two test accounts."],
            ["As A, request the resource with B's identifier.",
             f"Replay the request with id {b} using the attacker's session.",
             "Swap the id in the path for the victim's one.", "Increment the identifier."],
            ["The server answers 200 with B's data instead of 403.", "Victim data is returned.",
             "No authorization error: you get someone else's record.",
             "It works for any id, I stopped after checking three of my own accounts."],
        ])
        return t, self.assemble(summary, steps)

    def w_ssrf(self):
        target = self.rng.choice(SSRF_TARGETS)
        t = self.rng.choice([
            f"SSRF in {self.phrase}",
            f"Server-side request forgery via {self.param or 'url'} parameter",
            f"Blind SSRF through {self.phrase} reaching internal hosts",
            f"SSRF to cloud metadata from {self.path}",
            f"The {self.phrase} fetches arbitrary URLs server side",
        ])
        summary = self.rng.choice([
            f"{self.where(target)[0].upper() + self.where(target)[1:]} makes the server fetch any URL given in {self.pname()}.",
            f"The backend requests whatever {self.pname()} points to when calling {self.where(target)}, including internal addresses.",
            f"I could make the server issue requests to `{target}` by using {self.where(target)}.",
        ])
        steps = self.steps([
            f"Set {self.pname()} to `{target}`.",
            ["The response (or the out-of-band interaction) shows the server connected to the target.",
             "A DNS and HTTP hit arrives on my Collaborator.", "The request comes from the server's IP.",
             "Timing differs between open and closed ports."],
            ["Internal content is returned in the response body.", "The body includes the internal response.",
             "IAM role name and temporary keys are visible.", ""],
        ])
        return t, self.assemble(summary, steps)

    def w_open_redirect(self):
        target = self.rng.choice(REDIR_TARGETS)
        t = self.rng.choice([
            f"Open redirect in {self.phrase}",
            f"Unvalidated redirect via {self.param or 'next'} parameter",
            f"Open redirection on {self.host}{self.path}",
            f"{self.param or 'redirect'} parameter allows redirecting users to any domain",
            f"URL redirection to untrusted site ({self.phrase})",
        ])
        summary = self.rng.choice([
            f"The {self.pname()} parameter of {self.where(target)} is used as the redirect target without validation.",
            f"After visiting {self.where(target)} the browser is sent to whatever {self.pname()} contains.",
            f"{self.where(target)[0].upper() + self.where(target)[1:]} redirects to external domains.",
        ])
        steps = self.steps([
            f"Visit {self.url(target)}",
            f"You end up on `{target}`.",
        ])
        return t, self.assemble(summary, steps)

    def w_csrf(self):
        t = self.rng.choice([
            f"CSRF on {self.phrase}",
            f"Cross-site request forgery allows changing {self.phrase} of a victim",
            f"Missing CSRF token on {self.method} {self.path}",
            f"No anti-CSRF protection in {self.phrase}",
            f"CSRF: attacker can submit {self.phrase} on behalf of users",
        ])
        fields = "\n".join(f'  <input type="hidden" name="{p}" value="attacker">' for p in self.params)
        poc = (f"```html\n<form action=\"https://{self.host}{self.concrete_path()}\" method=\"POST\">\n"
               f"{fields}\n</form>\n<script>document.forms[0].submit()</script>\n```")
        summary = self.rng.choice([
            f"{self.where()[0].upper() + self.where()[1:]} accepts the request without any CSRF token and the session cookie is SameSite=None.",
            f"There is no CSRF protection on {self.where()}; the request only relies on cookies.",
            f"A cross-origin form can trigger {self.where()}.",
        ])
        steps = self.steps([
            ["Host the following page on another origin.", "Save the PoC below as csrf.html.",
             "Create an auto-submitting form (below)."],
            ["Log in as the victim and open the attacker page.", "Open it in a browser where you are logged in.",
             "Lure the victim to the page."],
            ["The action is performed on the victim's account.", "The change is applied without any confirmation.",
             "Check the account: it was modified."],
        ])
        return t, self.assemble(summary, steps, "\n\n" + poc if self.style != "terse" else "")

    def w_auth_bypass(self):
        trick = self.rng.choice([
            "removing the session cookie still returns data",
            "adding `X-Original-URL` makes the proxy skip authentication",
            "the second step can be skipped by calling it directly",
            "sending an empty value is accepted as valid",
            "changing the response from `false` to `true` in the client is enough",
        ])
        t = self.rng.choice([
            f"Authentication bypass in {self.phrase}",
            f"Improper authentication on {self.path}",
            f"{self.phrase.capitalize()} can be bypassed",
            f"Auth bypass: access without credentials via {self.phrase}",
            f"Broken authentication in {self.method} {self.path}",
        ])
        summary = self.rng.choice([
            f"The authentication check on {self.where()} can be bypassed: {trick}.",
            f"I noticed that on {self.where()}, {trick}.",
            f"Authentication is not enforced properly by {self.where()} ({trick}).",
        ])
        steps = self.steps([
            ["Start the flow as an unauthenticated user.", "Log out, or use a private window.",
             "Begin with a victim's e-mail address only."],
            f"Apply the bypass: {trick}.",
            ["You are granted access as the target user.", "You land in the victim's account.",
             "Access is granted."],
        ])
        return t, self.assemble(summary, steps)

    def w_info_disclosure(self):
        leak = self.rng.choice([
            "AWS access keys and database passwords", "internal hostnames and stack traces",
            "environment variables including API secrets", "personal data of other users",
            "debug information and session tokens",
        ])
        t = self.rng.choice([
            f"Information disclosure on {self.phrase}",
            f"Sensitive data exposed via {self.host}{self.path if self.path != '/' else ''}",
            f"{self.phrase.capitalize()} leaks {leak}",
            f"Exposed {self.phrase} reveals secrets",
            f"Data leak through {self.phrase}",
        ])
        summary = self.rng.choice([
            f"{self.where()[0].upper() + self.where()[1:]} is publicly reachable and exposes {leak}.",
            f"While browsing I found {self.where()}, which discloses {leak}.",
            f"Unauthenticated access to {self.where()} returns {leak}.",
        ])
        steps = self.steps([
            f"Request {self.url()} without authentication.",
            f"Observe {leak} in the response.",
        ])
        return t, self.assemble(summary, steps)

    def w_subdomain_takeover(self):
        service = self.rng.choice(["an unclaimed S3 bucket", "a deleted Heroku app",
                                   "a GitHub Pages site that no longer exists",
                                   "an Azure app service that was removed", "a dangling Fastly service"])
        sub = self.host
        t = self.rng.choice([
            f"Subdomain takeover of {sub}",
            f"{sub} is vulnerable to takeover",
            f"Dangling CNAME on {sub.split('.')[0]} subdomain",
            f"Takeover possible: {sub} points to {service}",
            f"Subdomain takeover ({self.phrase})",
        ])
        summary = self.rng.choice([
            f"The DNS record for {sub} is a CNAME to {service}, which anyone can claim.",
            f"`dig {sub}` shows a CNAME to {service}; I claimed it and served a proof page.",
            f"https://{sub}/ answers with the provider's 'not found' page because it points at {service}.",
        ])
        steps = self.steps([
            f"Run `dig CNAME {sub}`.",
            "Register the resource on the provider with the same name.",
            f"Visit https://{sub}/takeover-poc.html and see the proof file.",
        ])
        return t, self.assemble(summary, steps)

    def w_rate_limit(self):
        n = self.rng.choice([500, 1000, 2000, 10000])
        t = self.rng.choice([
            f"No rate limiting on {self.phrase}",
            f"Missing rate limit allows brute force of {self.param or 'input'}",
            f"Brute force possible on {self.method} {self.path}",
            f"Lack of throttling on {self.phrase}",
            f"Unlimited attempts on {self.phrase} ({self.param or 'code'})",
        ])
        summary = self.rng.choice([
            f"{self.where()[0].upper() + self.where()[1:]} does not limit the number of attempts.",
            f"I sent {n} requests to {self.where()} in a few minutes and none was blocked.",
            f"There is no lockout or CAPTCHA on {self.where()}, so {self.pname()} can be guessed.",
        ])
        steps = self.steps([
            f"Capture the request in Burp and send it to Intruder with a payload list on {self.pname()}.",
            [f"Run {n} requests.", f"Fire {n} attempts with 20 threads.", f"Try {n} codes."],
            ["All return the normal response; no 429, no lockout.", "None is blocked.",
             "The correct value is accepted at the end, so guessing works."],
        ])
        return t, self.assemble(summary, steps)

    def w_cors(self):
        origin = self.rng.choice(["https://evil.com", "null", "https://attacker.example.net",
                                  f"https://{self.host}.evil.com"])
        t = self.rng.choice([
            f"CORS misconfiguration on {self.phrase}",
            f"Arbitrary origin reflected in Access-Control-Allow-Origin on {self.path}",
            f"Cross-origin read of {self.phrase} via permissive CORS",
            f"Insecure CORS policy with credentials ({self.host})",
        ])
        summary = self.rng.choice([
            f"{self.where()[0].upper() + self.where()[1:]} reflects the `Origin` header and allows credentials.",
            f"Sending `Origin: {origin}` to {self.where()} returns `Access-Control-Allow-Origin: {origin}` with `Access-Control-Allow-Credentials: true`.",
        ])
        steps = self.steps([
            f"curl -H 'Origin: {origin}' -i {self.url()}",
            "Observe the reflected origin and credentials header.",
            "Host a page on the attacker origin that fetches the endpoint with credentials and reads the body.",
        ])
        return t, self.assemble(summary, steps)

    def w_path_traversal(self):
        payload = self.rng.choice(TRAVERSAL_PAYLOADS)
        t = self.rng.choice([
            f"Path traversal in {self.phrase}",
            f"Directory traversal via {self.param or 'file'} parameter",
            f"Local file read through {self.path}",
            f"Arbitrary file download in {self.phrase}",
        ])
        summary = self.rng.choice([
            f"The {self.pname()} parameter of {self.where(payload)} is used in a file path without normalisation.",
            f"Using `{payload}` in {self.pname()} on {self.where(payload)} returns files outside the intended folder.",
        ])
        steps = self.steps([
            f"Set {self.pname()} to `{payload}`.",
            "The response contains the content of the system file.",
        ])
        return t, self.assemble(summary, steps)

    def w_xxe(self):
        ent = self.rng.choice(["file:///etc/passwd", "http://169.254.169.254/latest/meta-data/",
                               "file:///c:/windows/win.ini"])
        t = self.rng.choice([
            f"XXE in {self.phrase}",
            f"XML external entity injection via {self.param or 'file'} upload",
            f"XXE leads to file read on {self.path}",
            f"External entities are resolved by the {self.phrase}",
        ])
        poc = f"```xml\n<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"{ent}\">]>\n<r>&x;</r>\n```"
        summary = self.rng.choice([
            f"{self.where()[0].upper() + self.where()[1:]} parses uploaded XML with external entities enabled.",
            f"The XML parser behind {self.where()} resolves external entities.",
        ])
        steps = self.steps([
            "Upload the following document.",
            f"The response includes the content of `{ent}`.",
        ])
        return t, self.assemble(summary, steps, "\n\n" + poc)


URL_FORMS = ["absolute", "absolute", "request", "inline", "prose", "upper_host", "www",
             "trailing_slash", "locale"]
STYLES = ["structured", "terse", "narrative"]


# How other researchers name the same feature; each report picks one.
SYNONYMS = {
    "search": ["search", "search box", "search feature", "lookup"],
    "download": ["download", "export", "retrieval"],
    "submission": ["submission", "form", "posting"],
    "login": ["login", "sign-in", "authentication"],
    "sign-in": ["sign-in", "login", "log-in"],
    "profile": ["profile", "account"],
    "settings": ["settings", "preferences"],
    "redemption": ["redemption", "redeem flow", "claim"],
    "API": ["API", "endpoint", "REST endpoint", "api"],
    "subdomain": ["subdomain", "sub-domain", "host"],
    "page": ["page", "view", "screen"],
    "upload": ["upload", "import"],
    "import": ["import", "upload"],
    "change": ["change", "update"],
    "update": ["update", "edit"],
    "management": ["management", "settings", "editor"],
    "reset": ["reset", "recovery"],
    "verification": ["verification", "check", "validation"],
    "comments": ["comments", "comment section"],
    "reviews": ["reviews", "review form", "ratings"],
}


def rephrase(rng, phrase):
    words = phrase.split()
    out = []
    for w in words:
        alts = SYNONYMS.get(w)
        out.append(rng.choice(alts) if alts and rng.random() < 0.6 else w)
    return " ".join(out)


def known_issue_text(rng, endpoint, klass):
    key, asset, host, method, path, params, phrase, _ = endpoint
    names = {
        RATE: f"Rate limiting on {phrase}",
        TAKEOVER: f"{host} dangling DNS record",
        INFO: f"{phrase.capitalize()} publicly reachable",
        CORS: f"Permissive CORS on {phrase}",
        CSRF: f"CSRF on {phrase}",
        REDIR: f"Redirect parameter on {phrase}",
        AUTH: f"Weak authentication on {phrase}",
    }
    title = names.get(klass, f"Known: {klass.replace('_', ' ')} on {phrase}")
    body = (f"Known issue, tracked internally. The {phrase} (`{method} {path}` on {host}) "
            f"is affected by a {klass.replace('_', ' ')} weakness we accept for now. Reports about it are "
            f"duplicates and not eligible for a bounty.")
    return title, body


def noise_reports(rng, programme):
    """Low-value reports every programme receives: not duplicates of anything here, but full of
    the same words and endpoints as the real bugs."""
    endpoints = programme["endpoints"]
    hosts = sorted({e[2] for e in endpoints if not e[2].startswith("github")})
    out = []
    host = rng.choice(hosts)
    out.append((f"Missing security headers on {host}",
                f"The response from https://{host}/ lacks `Content-Security-Policy`, "
                f"`X-Frame-Options` and `Strict-Transport-Security`. This may allow clickjacking "
                f"and XSS attacks.\n\nImpact: an attacker could exploit this in combination "
                f"with other bugs.", 693, None))
    e = rng.choice([e for e in endpoints if e[3] == "GET" and e[4] != "/"] or endpoints)
    out.append((f"Clickjacking on {e[6]}",
                f"The {e[6]} at https://{e[2]}{e[4].replace('{id}', '42')} can be framed by any "
                f"origin.\n\n```html\n<iframe src=\"https://{e[2]}{e[4].replace('{id}', '42')}\">"
                f"</iframe>\n```\n\nImpact: a user can be tricked into clicking.", 1021, e[1]))
    no_xss = [e for e in endpoints if XSS_R not in e[7] and XSS_S not in e[7] and e[5]]
    if no_xss:
        e = rng.choice(no_xss)
        out.append((f"Self-XSS in {e[6]}",
                    f"Typing `<img src=x onerror=alert(1)>` into the {e[5][0]} field of the "
                    f"{e[6]} (`{e[3]} {e[4]}`) runs script, but only in my own session; I could not "
                    f"find a way to make it run for another user.", 79, e[1]))
    redirects = [e for e in endpoints if REDIR in e[7]]
    if redirects:
        e = rng.choice(redirects)
        out.append((f"CSRF on logout ({e[6]})",
                    f"`{e[3]} {e[4]}` logs the user out without any token, so an image tag "
                    f"`<img src=\"https://{e[2]}{e[4]}\">` on any site signs the victim out.",
                    352, e[1]))
    out.append((f"SPF record too permissive for {host.split('.', 1)[-1]}",
                f"`dig TXT {host.split('.', 1)[-1]}` shows `~all` and no DMARC policy, so anyone "
                f"can spoof e-mail from the domain.", None, None))
    out.append((f"Server version disclosure on {host}",
                f"The `Server` header of https://{host}/ reveals `nginx/1.18.0`, which is "
                f"outdated. Information disclosure helps attackers pick exploits.", 200, None))
    no_rate = [e for e in endpoints if RATE not in e[7] and e[3] == "POST"]
    if no_rate:
        e = rng.choice(no_rate)
        out.append((f"No rate limiting on {e[6]}",
                    f"I could send 300 requests to `{e[3]} {e[4]}` on {e[2]} in one minute; "
                    f"nothing throttles them. This could be used to spam.", 770, e[1]))
    return out


def generate(seed):
    rng = random.Random(seed)
    documents = []
    next_id = [1]

    def new_id():
        i = next_id[0]
        next_id[0] += 1
        return i

    programmes_out = []
    for programme in PROGRAMMES:
        programmes_out.append({k: programme[k] for k in ("id", "slug", "name", "assets")})
        bugs = []
        for endpoint in programme["endpoints"]:
            for klass in endpoint[7]:
                bugs.append((endpoint, klass))
        # Some endpoints get a second, distinct bug of a class that fits (another parameter).
        rng.shuffle(bugs)
        timeline = []  # (time, doc) pairs; time orders the submissions.

        # Known issues: two per programme, registered before any report.
        known_candidates = [b for b in bugs if b[1] in (RATE, TAKEOVER, INFO, CORS, REDIR, CSRF, AUTH)]
        known = known_candidates[:2]
        known_docs = {}
        for endpoint, klass in known:
            title, body = known_issue_text(rng, endpoint, klass)
            doc = {"id": new_id(), "programme": programme["id"], "kind": "known_issue",
                   "title": title, "description": body, "asset": endpoint[1],
                   "cwe": CWES[klass][0], "original": None,
                   "bug": f"{programme['slug']}:{endpoint[0]}:{klass}"}
            known_docs[(endpoint[0], klass)] = doc
            timeline.append((-1.0, doc))

        for endpoint, klass in bugs:
            bug_key = f"{programme['slug']}:{endpoint[0]}:{klass}"
            known_doc = known_docs.get((endpoint[0], klass))
            first_form = rng.choice(URL_FORMS)
            first_style = rng.choice(STYLES)
            original = None
            t0 = rng.uniform(0, 100)
            if known_doc is None:
                title, body = Writer(rng, programme, endpoint, klass, first_style, first_form).write()
                original = {"id": None, "programme": programme["id"], "kind": "report",
                            "title": title, "description": body,
                            "asset": endpoint[1] if rng.random() < 0.9 else None,
                            "cwe": CWES[klass][0] if rng.random() < 0.9 else None,
                            "original": None, "bug": bug_key}
                timeline.append((t0, original))
            target = known_doc or original
            # Duplicates: about half the bugs, a few twice; every known issue once.
            n_dups = 1 if known_doc else rng.choices([0, 1, 2], weights=[40, 48, 12])[0]
            used_forms = {first_form}
            used_styles = {first_style}
            for k in range(n_dups):
                form = rng.choice([f for f in URL_FORMS if f not in used_forms] or URL_FORMS)
                style = rng.choice([s for s in STYLES if s not in used_styles] or STYLES)
                used_forms.add(form)
                used_styles.add(style)
                title, body = Writer(rng, programme, endpoint, klass, style, form).write()
                asset = endpoint[1]
                r = rng.random()
                if r < 0.12:
                    asset = None
                elif r < 0.2:
                    asset = rng.choice(programme["assets"])
                cwe = rng.choice(CWES[klass]) if rng.random() < 0.85 else None
                dup = {"id": None, "programme": programme["id"], "kind": "report",
                       "title": title, "description": body, "asset": asset, "cwe": cwe,
                       "original": target, "bug": bug_key}
                timeline.append((t0 + rng.uniform(1, 60) * (k + 1), dup))
        for title, body, cwe, asset in noise_reports(rng, programme):
            timeline.append((rng.uniform(0, 160), {
                "id": None, "programme": programme["id"], "kind": "report", "title": title,
                "description": body, "asset": asset, "cwe": cwe, "original": None,
                "bug": f"{programme['slug']}:noise"}))
        timeline.sort(key=lambda pair: pair[0])
        for _, doc in timeline:
            if doc["id"] is None:
                doc["id"] = new_id()
            documents.append(doc)

    for doc in documents:
        if isinstance(doc["original"], dict):
            doc["original"] = doc["original"]["id"]
    return {
        "about": "Labelled duplicate set for rampart-dedup, generated by testdata/generate.py. "
                 "Documents are in submission order per programme; duplicate_of names the id "
                 "of the original (a report or a known issue).",
        "seed": seed,
        "programmes": programmes_out,
        "documents": documents,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    data = generate(args.seed)
    json.dump(data, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    docs = data["documents"]
    dups = sum(1 for d in docs if d["original"])
    print(f"{len(docs)} documents, {dups} duplicates", file=sys.stderr)


if __name__ == "__main__":
    main()
