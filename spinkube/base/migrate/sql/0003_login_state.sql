-- Server-side state of the login service, which the Django service never had.

-- Tokens revoked by logout, by their jti, kept until they would have expired.
CREATE TABLE IF NOT EXISTS revoked_token (
    jti        varchar(64)  PRIMARY KEY,
    member_id  varchar(100) NOT NULL,
    expires_at timestamptz  NOT NULL
);
CREATE INDEX IF NOT EXISTS revoked_token_expires_at_idx ON revoked_token (expires_at);

-- Failed logins per member id within the current throttling window.
-- Keyed by the id as typed, so unknown ids are throttled exactly like real ones.
CREATE TABLE IF NOT EXISTS login_throttle (
    member_id    varchar(100) PRIMARY KEY,
    failures     integer      NOT NULL,
    window_start timestamptz  NOT NULL
);

-- No plaintext password may survive the migration. Rows the monolith era or the
-- test fixtures left in plaintext are hashed in place with bcrypt (pgcrypto);
-- the login service verifies that format and upgrades it to argon2id on the next
-- successful login. Recognised hash formats are left untouched, and so are
-- Django's unusable passwords ("!..."), which must never match anything.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
UPDATE member
SET member_pwd = crypt(member_pwd, gen_salt('bf', 10))
WHERE member_pwd IS NOT NULL
  AND member_pwd !~ '^(pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt_sha256|bcrypt|scrypt|md5|sha1|unsalted_md5|unsalted_sha1|crypt)\$'
  AND member_pwd !~ '^\$(argon2id|argon2i|argon2d|2a|2b|2x|2y)\$'
  AND member_pwd !~ '^!';
