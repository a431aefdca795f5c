-- Roles for the reporting replica.
BEGIN;

CREATE ROLE reporting_ro LOGIN PASSWORD 'bNLoCQlZAhYvZFvxz%5N';
GRANT CONNECT ON DATABASE reporting TO reporting_ro;
GRANT USAGE ON SCHEMA public TO reporting_ro;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO reporting_ro;

ALTER ROLE etl_writer WITH PASSWORD 'Kestrel25*Juniper&722' VALID UNTIL '2027-01-01';

-- Application users; password_hash holds bcrypt hashes, not passwords.
CREATE TABLE IF NOT EXISTS app_users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    password_changed_at timestamptz,
    api_key_prefix char(8)
);

INSERT INTO app_users (id, email, password_hash) VALUES
    ('ca602975-483a-4f17-b78d-600df0b045bd', 'alice@acme.example', '$2b$12$bVPE7a3q7vrIpEg588ySH7EQlV8yr8cOIhR7RgctwP6qvWImoJ8AX'),
    ('2e335d68-71ea-4038-9dd7-b5455e3329ea', 'bob@acme.example', '$2b$12$7HVymhlNUwwXhaeel9tQX5p2/SdDdKxatEjml3BAVHrbn3/HmXdnM'),
    ('cff5bc7a-d55f-4d99-8cfe-55c4bfc6c432', 'carol@acme.example', '$argon2id$v=19$m=65536,t=3,p=4$TXqHuB1uQG7qmlc+so1mvw$6It8b84svKfhx7dRV0LAvdMQ6XWPspqrsN/MyvSbvL4');

COMMIT;
