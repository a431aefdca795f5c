import pytest

# Fixtures use obviously fake values.
FAKE_PASSWORD = 'changeme'
EXAMPLE_KEY = 'AKIAIOSFODNN7EXAMPLE'
EXAMPLE_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
BAD_CHECKSUM = 'ghp_y3c2Eom06Dwt0Y3oobQmzvr3e9XrwPGzR1Iv'

def test_login(client):
    resp = client.post('/login', data={'password': 'hunter2'})
    assert resp.status_code == 302
