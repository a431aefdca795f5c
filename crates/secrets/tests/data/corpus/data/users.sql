INSERT INTO users (email, password_hash) VALUES
  ('ada@acme.io', '$2b$12$MCBOcJtme6TtrHUFDGMlZBjP9w.mMeWkhQS31pDbWgNfOtPCtgY5l'),
  ('bob@acme.io', '$2b$12$C3LYsqRk8gZHkZ3qr9z.YzFFjI3Plo02USyPSdNvS4s4fDzVtkogF');
CREATE USER reporting WITH PASSWORD '8N7j3&avSZ!47';
