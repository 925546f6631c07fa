-- Plaintext passwords that begin with "!" survived 0003, which took every "!..."
-- value for Django's unusable password. Django writes exactly "!" followed by 40
-- letters and digits (`make_password(None)`; before Django 1.6 a lone "!"), so any
-- other value that begins with "!" is a monolith-era plaintext password: hash it
-- with bcrypt like the others (the login service verifies and upgrades that).
UPDATE member
SET member_pwd = crypt(member_pwd, gen_salt('bf', 10))
WHERE member_pwd ~ '^!'
  AND member_pwd !~ '^!([A-Za-z0-9]{40})?$';
