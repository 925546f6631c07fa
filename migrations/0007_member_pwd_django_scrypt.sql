-- Room for Django's scrypt hash format, which the login service writes in Django
-- coexistence mode (so that the Django login still verifies a member who logged in
-- through Spin): `scrypt$16384$<22-char salt>$8$5$<88-char base64>` is 128
-- characters, the length of Django's own `auth_user.password`, while the legacy
-- `member.member_pwd` is varchar(100).
--
-- Widening a varchar is a catalogue-only change in PostgreSQL (no table rewrite;
-- the ACCESS EXCLUSIVE lock is held only for the catalogue update). The Django
-- services keep working: their model's max_length is checked only by Django forms,
-- never by the ORM's save(). Never narrows a column that is already wider.
DO $$
BEGIN
    IF (SELECT character_maximum_length
          FROM information_schema.columns
         WHERE table_schema = current_schema()
           AND table_name = 'member'
           AND column_name = 'member_pwd') < 128 THEN
        ALTER TABLE member ALTER COLUMN member_pwd TYPE varchar(128);
    END IF;
END
$$;
