-- Login and registration attempts, counted per scope and subject within a window,
-- replacing login_throttle (failures per member id only):
--   'pair'     member id + client address: the hard limit on password checks;
--   'id'       member id: a soft lock (a correct password still logs in);
--   'address'  client address: failed logins, against spraying many ids;
--   'register' client address: registrations.
-- Attempts are reserved (counted) before the password is checked, in one statement
-- that increments and returns the count, so parallel guesses cannot slip past it.
CREATE TABLE IF NOT EXISTS login_attempt (
    scope        varchar(16)  NOT NULL,
    subject      varchar(200) NOT NULL,
    attempts     integer      NOT NULL,
    window_start timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, subject)
);
CREATE INDEX IF NOT EXISTS login_attempt_window_start_idx ON login_attempt (window_start);
GRANT SELECT, INSERT, UPDATE, DELETE ON login_attempt TO pizza_login;

DROP TABLE IF EXISTS login_throttle;
