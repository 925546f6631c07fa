-- Housekeeping: rows that have served their purpose, deleted in one statement.
-- `pizza-db purge` runs it (compiled in); the pizza-housekeeping CronJob runs that
-- command every 15 minutes (spinkube/base/housekeeping). Retention:
--   login_attempt      1 hour after its window opened (the longest window, registration's)
--   revoked_token      once the token it revokes can no longer be accepted (expires_at)
--   order_idempotency  24 hours (as Stripe keeps keys); a replay after that is a new request
--   outbox             1 day after it was published
WITH attempts AS (
    DELETE FROM login_attempt WHERE window_start < now() - interval '1 hour' RETURNING 1
),
revocations AS (
    DELETE FROM revoked_token WHERE expires_at < now() RETURNING 1
),
idempotency AS (
    DELETE FROM order_idempotency WHERE created_at < now() - interval '24 hours' RETURNING 1
),
published AS (
    DELETE FROM outbox WHERE published_at < now() - interval '1 day' RETURNING 1
)
SELECT (SELECT count(*) FROM attempts) AS login_attempt,
       (SELECT count(*) FROM revocations) AS revoked_token,
       (SELECT count(*) FROM idempotency) AS order_idempotency,
       (SELECT count(*) FROM published) AS outbox;
