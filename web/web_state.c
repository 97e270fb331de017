/* web_state.c — staff release requests in WebDatabase (see web_state.h). */
#include "web_state.h"

#include <string.h>
#include <sqlite3.h>
#include "tz_util.h"

struct web_state {
	sqlite3 *db;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS requests ("
	" mac TEXT NOT NULL UNIQUE, id TEXT NOT NULL, part INTEGER NOT NULL,"
	" rcpt TEXT NOT NULL, reason TEXT NOT NULL, created INTEGER NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'open', decided_by TEXT, note TEXT);"
	"CREATE INDEX IF NOT EXISTS requests_id ON requests(id);"
	"CREATE TABLE IF NOT EXISTS ppap ("
	" mac TEXT NOT NULL, part INTEGER NOT NULL, tries INTEGER NOT NULL,"
	" result TEXT, PRIMARY KEY(mac, part));";

struct web_state *web_state_open(const char *path, char *err, size_t errlen)
{
	struct web_state *s = g_new0(struct web_state, 1);
	char *msg = NULL;

	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		tz_err(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		web_state_free(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		tz_err(err, errlen, "%s: %s", path, msg ? msg : "schema");
		sqlite3_free(msg);
		web_state_free(s);
		return NULL;
	}
	return s;
}

void web_state_free(struct web_state *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db);
	g_free(s);
}

void web_request_free(struct web_request *q)
{
	if (q == NULL)
		return;
	g_free(q->mac);
	g_free(q->id);
	g_free(q->rcpt);
	g_free(q->reason);
	g_free(q->status);
	g_free(q->decided_by);
	g_free(q->note);
	g_free(q);
}

int web_state_add_request(struct web_state *s, const char *mac, const char *id, unsigned part,
			  const char *rcpt, const char *reason, int64_t now,
			  char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO requests(mac,id,part,rcpt,reason,created)"
				      " VALUES(?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
		return tz_err(err, errlen, "web database: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, part);
	sqlite3_bind_text(st, 4, rcpt, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return tz_err(err, errlen, "web database: %s", sqlite3_errmsg(s->db));
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

void web_state_forget_request(struct web_state *s, const char *mac)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, "DELETE FROM requests WHERE mac=? AND status='open'", -1, &st,
			       NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? g_strdup((const char *)t) : NULL;
}

static struct web_request *row(sqlite3_stmt *st)
{
	struct web_request *q = g_new0(struct web_request, 1);

	q->rowid = sqlite3_column_int64(st, 0);
	q->mac = col_dup(st, 1);
	q->id = col_dup(st, 2);
	q->part = (unsigned)sqlite3_column_int64(st, 3);
	q->rcpt = col_dup(st, 4);
	q->reason = col_dup(st, 5);
	q->created = sqlite3_column_int64(st, 6);
	q->status = col_dup(st, 7);
	q->decided_by = col_dup(st, 8);
	q->note = col_dup(st, 9);
	return q;
}

#define COLS "SELECT rowid,mac,id,part,rcpt,reason,created,status,decided_by,note FROM requests "

static struct web_request *one(struct web_state *s, const char *sql, const char *text, int64_t num)
{
	sqlite3_stmt *st = NULL;
	struct web_request *q = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, num);
	if (sqlite3_step(st) == SQLITE_ROW)
		q = row(st);
	sqlite3_finalize(st);
	return q;
}

struct web_request *web_state_request_by_mac(struct web_state *s, const char *mac)
{
	return one(s, COLS "WHERE mac=?", mac, 0);
}

struct web_request *web_state_request_by_row(struct web_state *s, int64_t rowid)
{
	return one(s, COLS "WHERE rowid=?", NULL, rowid);
}

GPtrArray *web_state_requests(struct web_state *s, int open_only, const char *id, unsigned limit)
{
	GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)web_request_free);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, COLS "WHERE (?1 = 0 OR status = 'open') AND (?2 IS NULL OR id = ?2)"
				      " ORDER BY rowid DESC LIMIT ?3", -1, &st, NULL) != SQLITE_OK)
		return a;
	sqlite3_bind_int(st, 1, open_only);
	if (id)
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, limit);
	while (sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(a, row(st));
	sqlite3_finalize(st);
	return a;
}

int web_state_decide(struct web_state *s, int64_t rowid, const char *status, const char *by,
		     const char *note, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, "UPDATE requests SET status=?, decided_by=?, note=?"
				      " WHERE rowid=? AND status='open'", -1, &st, NULL) != SQLITE_OK)
		return tz_err(err, errlen, "web database: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, by, -1, SQLITE_STATIC);
	if (note && *note)
		sqlite3_bind_text(st, 3, note, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, rowid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return tz_err(err, errlen, "web database: %s", sqlite3_errmsg(s->db));
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int web_state_ppap_take(struct web_state *s, const char *mac, unsigned part, unsigned max,
			unsigned *tries, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* one statement: the count cannot pass max however many posts race */
	if (sqlite3_prepare_v2(s->db, "INSERT INTO ppap(mac,part,tries) VALUES(?1,?2,1)"
				      " ON CONFLICT(mac,part) DO UPDATE SET tries=tries+1 WHERE tries < ?3"
				      " RETURNING tries", -1, &st, NULL) != SQLITE_OK)
		return tz_err(err, errlen, "web database: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, part);
	sqlite3_bind_int64(st, 3, max);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*tries = (unsigned)sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		*tries = max;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tz_err(err, errlen, "web database: %s", sqlite3_errmsg(s->db));
	return rc == SQLITE_ROW ? 0 : 1;
}

void web_state_ppap_result(struct web_state *s, const char *mac, unsigned part, const char *result)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, "UPDATE ppap SET result=? WHERE mac=? AND part=?", -1, &st,
			       NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, mac, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, part);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

unsigned web_state_ppap_get(struct web_state *s, const char *mac, unsigned part, char **result)
{
	sqlite3_stmt *st = NULL;
	unsigned tries = 0;

	*result = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT tries, result FROM ppap WHERE mac=? AND part=?", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, part);
	if (sqlite3_step(st) == SQLITE_ROW) {
		tries = (unsigned)sqlite3_column_int64(st, 0);
		*result = col_dup(st, 1);
	}
	sqlite3_finalize(st);
	return tries;
}
