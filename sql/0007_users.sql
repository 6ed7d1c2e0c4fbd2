-- 0007_users.sql - the users of HTTP basic auth (hugetask-api --auth basic).
--
-- password_hash is a crypt(3) string from libcrypt: yescrypt ("$y$..."),
-- salted per user, with its algorithm and cost inside the string, so a
-- later release may raise the cost and old hashes keep verifying.  Rows are
-- written only by `hugetask-api user add|passwd|delete`; the API only reads
-- them (by primary key).  Names: what that command accepts.

CREATE TABLE users (
    name          text        PRIMARY KEY
                              CHECK (name ~ '^[A-Za-z0-9._@-]{1,64}$'),
    password_hash text        NOT NULL CHECK (password_hash LIKE '$%'),
    created_at    timestamptz NOT NULL DEFAULT now()
);
