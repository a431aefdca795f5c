CREATE USER IF NOT EXISTS 'shop'@'10.0.%' IDENTIFIED BY 'WF=a_erVWX*b%bKhx7366B';
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.* TO 'shop'@'10.0.%';
CREATE USER IF NOT EXISTS 'readonly'@'%' IDENTIFIED BY '${READONLY_PASSWORD}';
GRANT SELECT ON shop.* TO 'readonly'@'%';
SET GLOBAL validate_password.length = 14;
SET GLOBAL validate_password.policy = STRONG;
FLUSH PRIVILEGES;
