"""Copy incident tickets from Jira to the status page. Runs every 5 minutes from cron."""
import base64
import requests

JIRA = "https://acme.atlassian.net"
AUTH = base64.b64encode(b"ops-bot@acme.example:ATATT3xFfGF0gCmSf-JPZb3eB3jt1C9NVeiW7k7eeHZzyUxicQk_14JLPVqH7y2MQieH1YINpkoQ2Y3DVzysQEMxPdtwoAMGkVtapfPz-Xb2OLHOeJjDjUeuZuARNiF9TRGCm9eRAA3YQEOxbThhLfWObA_8atzomimHySt-gW8N2egsxV-acfM=D87C68A6").decode()
HEADERS = {"Authorization": f"Basic {AUTH}", "Accept": "application/json"}
STATUSPAGE_KEY = "1adfec3a947aa5e69cecd3f2de8176a3"


def incidents():
    r = requests.get(f"{JIRA}/rest/api/3/search", params={"jql": "project = INC AND status != Done"}, headers=HEADERS)
    r.raise_for_status()
    return r.json()["issues"]


if __name__ == "__main__":
    for issue in incidents():
        requests.post("https://api.statuspage.io/v1/pages/acme/incidents",
                      headers={"Authorization": f"OAuth {STATUSPAGE_KEY}"},
                      json={"incident": {"name": issue["fields"]["summary"]}})
