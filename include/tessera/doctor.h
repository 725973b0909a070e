#ifndef TESSERA_DOCTOR_H
#define TESSERA_DOCTOR_H

/* What `tessera doctor` asks the database (src/store/doctor.c). Each function returns facts as a JSON array
 * of objects (never a secret, a hash or a private key) and leaves judging and wording them to
 * src/cli/doctor.c; NULL with err when the query failed. Only active users and clients are considered: a
 * disabled one is something the operator has already acted on. Timestamps are ISO 8601 UTC text. */
#include <jansson.h>
#include "tessera/store.h"

/* Names that demo and test accounts get (PostgreSQL regular expression, matched case-insensitively against
 * usernames and client_ids): demo, test or example, alone or followed by a separator or digit: "demo",
 * "test2", "demo-service", "Example_User", "test@corp.example". "tester" or "demonstration" do not match. */
#define TS_DOCTOR_DEMO_PATTERN "^(demo|test|example)([-_.@+0-9].*)?$"

/** active users and clients whose name matches pattern (case-insensitive):
 *  [{"kind": "user"|"client", "name", "created_at"}] */
json_t *ts_store_doctor_named_like(ts_pgconn_t *db, const char *pattern, char *err, size_t errlen);
/** active users whose last sign-in, and active clients whose last authentication, is more than days ago:
 *  [{"kind": "user"|"client", "name", "last_used_at" (null: never), "since", "days"}]. Without a recorded use,
 *  "since" is the creation, or for a client the moment use began to be recorded (migration 004) if later. */
json_t *ts_store_doctor_unused(ts_pgconn_t *db, unsigned days, char *err, size_t errlen);
/** the still valid secrets (no expiry, or expiring later) of active clients created more than days ago:
 *  [{"client_id", "created_at", "expires_at" (null: never), "days"}] */
json_t *ts_store_doctor_old_secrets(ts_pgconn_t *db, unsigned days, char *err, size_t errlen);
/** every key not removed: [{"kid", "alg", "state", "since" (activated_at when current, retired_at when retired,
 *  created_at when next), "age" (seconds since then)}] */
json_t *ts_store_doctor_keys(ts_pgconn_t *db, char *err, size_t errlen);
/** the redirect_uris and post_logout_redirect_uris of active clients that do not start with https:// (any case):
 *  [{"client_id", "field", "uri"}] */
json_t *ts_store_doctor_plain_uris(ts_pgconn_t *db, char *err, size_t errlen);

#endif
