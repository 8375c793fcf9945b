/*
 * Backs the engine with host storage written in C: a transactional
 * key/value table (a sorted array; a transaction holds the table's mutex
 * from begin to end, stages its writes, and applies them all at commit),
 * the shape of a GP system's adapter over its own database.
 *
 * 1. Runs the storage port's conformance suite through these callbacks.
 * 2. Opens an engine on them and drives it with the typed calls (import,
 *    search, book, double-book, cancel) and the front door.
 * 3. Injects failures (a put, a commit, a begin) and checks the booking is
 *    not half-written: the table is byte-for-byte unchanged and the slot
 *    still free and bookable.
 * 4. Misuse: tables that are too small, incomplete or NULL are refused
 *    without touching user_data.
 *
 * Usage: host_storage <practice.json>
 */
#include <pthread.h>

#include "common.h"

/* ---------------------------------------------------------------------- */
/* The key/value table                                                    */

typedef struct {
    uint8_t *key;
    size_t key_len;
    uint8_t *value; /* NULL for a staged remove */
    size_t value_len;
} row;

typedef struct {
    long made, destroyed, unbalanced;
} kv_stats;

typedef struct {
    pthread_mutex_t lock;
    row *rows; /* sorted by key */
    size_t count, cap;
    /* The open transaction (at most one: begin holds the lock). */
    row *staged;
    size_t staged_count, staged_cap;
    uint32_t mode;
    /* Fault injection: fail the put numbered fail_put_at (0-based) of a
       transaction, or the next commit, or the next begin. */
    long fail_put_at, puts;
    int fail_commit, fail_begin;
    long begins, ends;
    kv_stats *stats;
} kv;

static int compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n == 0 ? 0 : memcmp(a, b, n);
    if (c != 0) return c;
    return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

/* The index of the first row whose key is >= key. */
static size_t lower_bound(const kv *db, const uint8_t *key, size_t key_len) {
    size_t lo = 0, hi = db->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (compare(db->rows[mid].key, db->rows[mid].key_len, key, key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint8_t *copy_bytes(const uint8_t *bytes, size_t len) {
    uint8_t *out = malloc(len == 0 ? 1 : len);
    if (out != NULL && len > 0) memcpy(out, bytes, len);
    return out;
}

static int fail_with(const char *message) {
    gpc_host_set_error(message, strlen(message));
    return -1;
}

static int32_t kv_begin(void *user_data, uint32_t mode, void **txn_out) {
    kv *db = user_data;
    if (db->fail_begin) {
        db->fail_begin = 0;
        return fail_with("injected begin failure");
    }
    pthread_mutex_lock(&db->lock);
    db->begins++;
    db->mode = mode;
    db->puts = 0;
    *txn_out = db;
    return 0;
}

static int32_t kv_get(void *user_data, void *txn, const uint8_t *key, size_t key_len,
                      gpc_host_value_fn found, void *found_ctx) {
    kv *db = user_data;
    if (txn != db) return fail_with("get outside a transaction");
    size_t i = lower_bound(db, key, key_len);
    if (i < db->count && compare(db->rows[i].key, db->rows[i].key_len, key, key_len) == 0)
        found(found_ctx, db->rows[i].value, db->rows[i].value_len);
    return 0;
}

static int32_t kv_scan(void *user_data, void *txn, const uint8_t *from, size_t from_len,
                       const uint8_t *to, size_t to_len, gpc_host_row_fn each, void *row_ctx) {
    kv *db = user_data;
    if (txn != db) return fail_with("scan outside a transaction");
    for (size_t i = lower_bound(db, from, from_len);
         i < db->count && compare(db->rows[i].key, db->rows[i].key_len, to, to_len) < 0; i++)
        each(row_ctx, db->rows[i].key, db->rows[i].key_len, db->rows[i].value,
             db->rows[i].value_len);
    return 0;
}

static int32_t stage(kv *db, const uint8_t *key, size_t key_len, const uint8_t *value,
                     size_t value_len, int is_put) {
    if (db->mode != GPC_HOST_TXN_WRITE) return fail_with("a write in a read transaction");
    if (db->staged_count == db->staged_cap) {
        size_t cap = db->staged_cap == 0 ? 16 : db->staged_cap * 2;
        row *bigger = realloc(db->staged, cap * sizeof *bigger);
        if (bigger == NULL) return fail_with("out of memory");
        db->staged = bigger;
        db->staged_cap = cap;
    }
    row *r = &db->staged[db->staged_count];
    r->key = copy_bytes(key, key_len);
    r->key_len = key_len;
    r->value = is_put ? copy_bytes(value, value_len) : NULL;
    r->value_len = value_len;
    if (r->key == NULL || (is_put && r->value == NULL)) {
        free(r->key);
        free(r->value);
        return fail_with("out of memory");
    }
    db->staged_count++;
    return 0;
}

static int32_t kv_put(void *user_data, void *txn, const uint8_t *key, size_t key_len,
                      const uint8_t *value, size_t value_len) {
    kv *db = user_data;
    if (txn != db) return fail_with("put outside a transaction");
    if (db->puts++ == db->fail_put_at) {
        db->fail_put_at = -1;
        return fail_with("injected put failure");
    }
    return stage(db, key, key_len, value, value_len, 1);
}

static int32_t kv_remove(void *user_data, void *txn, const uint8_t *key, size_t key_len) {
    kv *db = user_data;
    if (txn != db) return fail_with("remove outside a transaction");
    return stage(db, key, key_len, NULL, 0, 0);
}

static int32_t kv_commit(void *user_data, void *txn) {
    kv *db = user_data;
    if (txn != db) return fail_with("commit outside a transaction");
    if (db->fail_commit) {
        db->fail_commit = 0;
        return fail_with("injected commit failure");
    }
    /* Reserve room first, so applying cannot fail half-way. */
    if (db->count + db->staged_count > db->cap) {
        size_t cap = db->cap == 0 ? 64 : db->cap;
        while (cap < db->count + db->staged_count) cap *= 2;
        row *bigger = realloc(db->rows, cap * sizeof *bigger);
        if (bigger == NULL) return fail_with("out of memory");
        db->rows = bigger;
        db->cap = cap;
    }
    for (size_t s = 0; s < db->staged_count; s++) {
        row *op = &db->staged[s];
        size_t i = lower_bound(db, op->key, op->key_len);
        int exists = i < db->count &&
                     compare(db->rows[i].key, db->rows[i].key_len, op->key, op->key_len) == 0;
        if (op->value != NULL) {
            if (exists) {
                free(db->rows[i].value);
                db->rows[i].value = op->value;
                db->rows[i].value_len = op->value_len;
                free(op->key);
            } else {
                memmove(&db->rows[i + 1], &db->rows[i], (db->count - i) * sizeof(row));
                db->rows[i] = *op;
                db->count++;
            }
        } else {
            free(op->key);
            if (exists) {
                free(db->rows[i].key);
                free(db->rows[i].value);
                memmove(&db->rows[i], &db->rows[i + 1], (db->count - i - 1) * sizeof(row));
                db->count--;
            }
        }
    }
    db->staged_count = 0; /* every staged buffer now belongs to the table or was freed */
    return 0;
}

static void kv_end(void *user_data, void *txn) {
    kv *db = user_data;
    (void)txn;
    for (size_t s = 0; s < db->staged_count; s++) { /* rollback */
        free(db->staged[s].key);
        free(db->staged[s].value);
    }
    db->staged_count = 0;
    db->ends++;
    pthread_mutex_unlock(&db->lock);
}

static void kv_destroy(void *user_data) {
    kv *db = user_data;
    if (db->begins != db->ends) db->stats->unbalanced++;
    db->stats->destroyed++;
    for (size_t i = 0; i < db->count; i++) {
        free(db->rows[i].key);
        free(db->rows[i].value);
    }
    free(db->rows);
    free(db->staged);
    pthread_mutex_destroy(&db->lock);
    free(db);
}

static kv *kv_new(kv_stats *stats) {
    kv *db = calloc(1, sizeof *db);
    if (db == NULL) return NULL;
    pthread_mutex_init(&db->lock, NULL);
    db->fail_put_at = -1;
    db->stats = stats;
    stats->made++;
    return db;
}

static gpc_host_storage table_for(kv *db) {
    gpc_host_storage s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    s.user_data = db;
    s.begin = kv_begin;
    s.get = kv_get;
    s.scan = kv_scan;
    s.put = kv_put;
    s.remove = kv_remove;
    s.commit = kv_commit;
    s.end = kv_end;
    s.destroy = kv_destroy;
    return s;
}

/* FNV-1a over every key and value, to see the table did not change. */
static uint64_t kv_digest(kv *db) {
    pthread_mutex_lock(&db->lock);
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < db->count; i++) {
        for (size_t j = 0; j < db->rows[i].key_len; j++)
            h = (h ^ db->rows[i].key[j]) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
        for (size_t j = 0; j < db->rows[i].value_len; j++)
            h = (h ^ db->rows[i].value[j]) * 1099511628211ULL;
        h = (h ^ 0xfe) * 1099511628211ULL;
    }
    h ^= (uint64_t)db->count;
    pthread_mutex_unlock(&db->lock);
    return h;
}

/* ---------------------------------------------------------------------- */
/* 1. The conformance suite                                               */

typedef struct {
    kv_stats stats;
    gpc_host_storage storage;
} factory_data;

static int32_t make_storage(void *data, const gpc_host_storage **storage_out) {
    factory_data *f = data;
    kv *db = kv_new(&f->stats);
    if (db == NULL) return -1;
    f->storage = table_for(db);
    *storage_out = &f->storage;
    return 0;
}

static void report_failure(void *data, const char *check, size_t check_len, const char *message,
                           size_t message_len) {
    (void)data;
    fprintf(stderr, "conformance check %.*s failed: %.*s\n", (int)check_len, check,
            (int)message_len, message);
}

static void conformance(void) {
    factory_data f;
    memset(&f, 0, sizeof f);
    size_t failures = 99;
    CHECK_OK(gpc_host_storage_conformance(make_storage, &f, report_failure, NULL, &failures),
             "conformance: the suite ran");
    CHECK(failures == 0, "conformance: no check failed");
    CHECK(f.stats.made >= 20, "conformance: one fresh storage per check");
    CHECK(f.stats.destroyed == f.stats.made, "conformance: every storage was destroyed");
    CHECK(f.stats.unbalanced == 0, "conformance: every begin had its end");
    CHECK(gpc_host_storage_conformance(NULL, NULL, NULL, NULL, &failures) ==
              GPC_RESULT_NULL_PARAMETER,
          "conformance: a NULL factory is NULL_PARAMETER");
}

/* ---------------------------------------------------------------------- */
/* 2, 3. The engine on host storage                                       */

static const char *practice_json;
static size_t practice_len;

static gpc_response *search(const gpc_engine *engine) {
    gpc_response *r = NULL;
    if (gpc_engine_search_free_slots(engine, PRACTICE_ODS, 6, "2030-03-04", 10, "2030-03-04", 10,
                                     NULL, 0, NULL, 0, &r) != GPC_RESULT_OK)
        return NULL;
    return r;
}

static int slot_is_free(const gpc_engine *engine, const char *slot) {
    char needle[64];
    snprintf(needle, sizeof needle, "\"id\":\"%s\"", slot);
    gpc_response *r = search(engine);
    int free_ = gpc_response_status(r) == 200 && strstr(body_of(r), needle) != NULL;
    gpc_response_free(r);
    return free_;
}

static gpc_response *book(const gpc_engine *engine, const char *slot, const char *location,
                          const char *start, const char *end) {
    char *body = book_body(slot, location, start, end);
    gpc_response *r = NULL;
    gpc_result rc =
        gpc_engine_book(engine, PRACTICE_ODS, 6, (const uint8_t *)body, strlen(body), &r);
    free(body);
    return rc == GPC_RESULT_OK ? r : NULL;
}

static gpc_response *book_15_1_0(const gpc_engine *engine) {
    return book(engine, "15-1-0", "18", "2030-03-04T10:00:00+00:00", "2030-03-04T10:15:00+00:00");
}

static void engine_on_host_storage(void) {
    kv_stats stats;
    memset(&stats, 0, sizeof stats);
    kv *db = kv_new(&stats);
    CHECK(db != NULL, "host: a table");
    gpc_host_storage table = table_for(db);
    gpc_engine_options *options = test_options();
    gpc_engine *engine = NULL;
    CHECK_OK(gpc_engine_open_host(options, &table, &engine), "open an engine on host storage");
    gpc_engine_options_free(options);

    gpc_response *r = NULL;
    CHECK_OK(gpc_engine_import_practice(engine, (const uint8_t *)practice_json, practice_len, &r),
             "import through the host callbacks");
    CHECK_DETAIL(gpc_response_status(r) == 200, "import on host storage: 200", body_of(r));
    gpc_response_free(r);
    CHECK(db->count > 50, "the practice is in the C table");

    r = search(engine);
    CHECK_DETAIL(gpc_response_status(r) == 200 && strstr(body_of(r), "\"id\":\"14-1-0\"") != NULL,
                 "typed search on host storage: 14-1-0 free", body_of(r));
    gpc_response_free(r);

    r = book(engine, "14-1-0", "17", "2030-03-04T09:00:00+00:00", "2030-03-04T09:10:00+00:00");
    CHECK_DETAIL(gpc_response_status(r) == 201, "book on host storage: 201", body_of(r));
    char id[64];
    appointment_id_from_location(header_of(r, "Location"), id, sizeof id);
    unsigned long long version = version_from_etag(header_of(r, "ETag"));
    CHECK(id[0] != '\0' && version > 0, "book on host storage: Location and ETag");
    char *cancel = cancel_body(body_of(r));
    CHECK(cancel != NULL, "book on host storage: the booked Appointment");
    gpc_response_free(r);

    r = book(engine, "14-1-0", "17", "2030-03-04T09:00:00+00:00", "2030-03-04T09:10:00+00:00");
    CHECK_DETAIL(gpc_response_status(r) == 409 && strstr(body_of(r), "DUPLICATE_REJECTED") != NULL,
                 "double-book on host storage: 409", body_of(r));
    gpc_response_free(r);

    /* The front door reads what the typed call wrote. */
    request_headers h;
    CHECK(ssp_headers(&h, IX_READ_APPOINTMENT, NULL) == 0, "host: token minted");
    char path[128];
    snprintf(path, sizeof path, STU3_ROOT "/Appointment/%s", id);
    r = send_request(engine, "GET", path, NULL, &h, NULL);
    CHECK_DETAIL(gpc_response_status(r) == 200 && strstr(body_of(r), "Slot/14-1-0") != NULL,
                 "front door on host storage: read the appointment", body_of(r));
    gpc_response_free(r);

    /* The Access Record reads the clinical record the import stored. */
    CHECK(ssp_headers(&h, IX_CARE_RECORD, "9000000009") == 0, "host: care record token minted");
    add_header(&h, "Content-Type", "application/json+fhir");
    static const char *care_record =
        "{\"resourceType\":\"Parameters\",\"parameter\":["
        "{\"name\":\"patientNHSNumber\",\"valueIdentifier\":{\"system\":"
        "\"http://fhir.nhs.net/Id/nhs-number\",\"value\":\"9000000009\"}},"
        "{\"name\":\"recordSection\",\"valueCodeableConcept\":{\"coding\":[{\"system\":"
        "\"http://fhir.nhs.net/ValueSet/gpconnect-record-section-1\",\"code\":\"ENC\"}]}}]}";
    r = send_request(engine, "POST", DSTU2_ROOT "/Patient/$gpc.getcarerecord", NULL, &h,
                     care_record);
    CHECK_DETAIL(gpc_response_status(r) == 200 &&
                     strstr(body_of(r), "Surgery consultation, Dr Black") != NULL,
                 "getcarerecord on host storage: the encounters the import stored", body_of(r));
    gpc_response_free(r);

    /* The same through the typed call, and a request it refuses. */
    static const char *summary =
        "{\"resourceType\":\"Parameters\",\"parameter\":["
        "{\"name\":\"patientNHSNumber\",\"valueIdentifier\":{\"system\":"
        "\"http://fhir.nhs.net/Id/nhs-number\",\"value\":\"9000000009\"}},"
        "{\"name\":\"recordSection\",\"valueCodeableConcept\":{\"coding\":[{\"system\":"
        "\"http://fhir.nhs.net/ValueSet/gpconnect-record-section-1\",\"code\":\"SUM\"}]}}]}";
    CHECK_OK(gpc_engine_get_care_record(engine, PRACTICE_ODS, 6, (const uint8_t *)summary,
                                        strlen(summary), &r),
             "typed getcarerecord: the call succeeds");
    CHECK_DETAIL(gpc_response_status(r) == 200 &&
                     strstr(body_of(r), "\"resourceType\":\"Composition\"") != NULL &&
                     strstr(body_of(r), "<h1>Summary</h1>") != NULL,
                 "typed getcarerecord: the Summary Bundle", body_of(r));
    CHECK(strcmp(header_of(r, "Content-Type"), "application/json+fhir;charset=utf-8") == 0,
          "typed getcarerecord: the DSTU2 JSON content type");
    gpc_response_free(r);
    static const char *no_section =
        "{\"resourceType\":\"Parameters\",\"parameter\":["
        "{\"name\":\"patientNHSNumber\",\"valueIdentifier\":{\"system\":"
        "\"http://fhir.nhs.net/Id/nhs-number\",\"value\":\"9000000009\"}}]}";
    CHECK_OK(gpc_engine_get_care_record(engine, PRACTICE_ODS, 6, (const uint8_t *)no_section,
                                        strlen(no_section), &r),
             "typed getcarerecord without a section: answered");
    CHECK_DETAIL(gpc_response_status(r) == 400 &&
                     strstr(body_of(r), "\"resourceType\":\"OperationOutcome\"") != NULL,
                 "typed getcarerecord without a section: 400 OperationOutcome", body_of(r));
    gpc_response_free(r);

    /* A put fails half-way through a booking. */
    uint64_t before = kv_digest(db);
    db->fail_put_at = 2;
    r = book_15_1_0(engine);
    CHECK_DETAIL(gpc_response_status(r) == 500, "failed put: 500", body_of(r));
    CHECK_DETAIL(strstr(body_of(r), "injected put failure") != NULL,
                 "failed put: the host's message reaches the OperationOutcome", body_of(r));
    gpc_response_free(r);
    CHECK(kv_digest(db) == before, "failed put: the table is unchanged");
    CHECK(db->begins == db->ends, "failed put: the transaction was ended (rolled back)");
    CHECK(slot_is_free(engine, "15-1-0"), "failed put: slot 15-1-0 is still free");

    /* The commit itself fails. */
    db->fail_commit = 1;
    r = book_15_1_0(engine);
    CHECK_DETAIL(gpc_response_status(r) == 500 &&
                     strstr(body_of(r), "injected commit failure") != NULL,
                 "failed commit: 500", body_of(r));
    gpc_response_free(r);
    CHECK(kv_digest(db) == before, "failed commit: the table is unchanged");

    /* A read cannot begin. */
    db->fail_begin = 1;
    r = search(engine);
    CHECK(r != NULL && gpc_response_status(r) == 500, "failed begin: search answers 500");
    gpc_response_free(r);
    CHECK(db->begins == db->ends, "failed begin: no end for a begin that failed");

    /* With the faults gone, the same booking goes through whole. */
    r = book_15_1_0(engine);
    CHECK_DETAIL(gpc_response_status(r) == 201, "after the failures: book 15-1-0 201", body_of(r));
    gpc_response_free(r);
    CHECK(!slot_is_free(engine, "15-1-0"), "after the failures: 15-1-0 is booked");

    r = NULL;
    CHECK_OK(gpc_engine_cancel(engine, PRACTICE_ODS, 6, id, strlen(id), version + 1000,
                               (const uint8_t *)cancel, strlen(cancel), &r),
             "typed cancel at a stale version: answered");
    CHECK_DETAIL(gpc_response_status(r) == 409 &&
                     strstr(body_of(r), "FHIR_CONSTRAINT_VIOLATION") != NULL,
                 "typed cancel at a stale version: 409", body_of(r));
    gpc_response_free(r);
    CHECK_OK(gpc_engine_cancel(engine, PRACTICE_ODS, 6, id, strlen(id), version,
                               (const uint8_t *)cancel, strlen(cancel), &r),
             "typed cancel: the call succeeds");
    CHECK_DETAIL(gpc_response_status(r) == 200 &&
                     strstr(body_of(r), "\"status\":\"cancelled\"") != NULL,
                 "typed cancel on host storage: 200 cancelled", body_of(r));
    gpc_response_free(r);
    CHECK_OK(gpc_engine_cancel(engine, PRACTICE_ODS, 6, id, strlen(id), version,
                               (const uint8_t *)cancel, strlen(cancel), &r),
             "typed cancel of a cancelled appointment: answered");
    CHECK_DETAIL(gpc_response_status(r) == 422, "typed cancel of a cancelled appointment: 422",
                 body_of(r));
    gpc_response_free(r);
    free(cancel);
    CHECK(slot_is_free(engine, "14-1-0"), "typed cancel: 14-1-0 is free again");

    CHECK(stats.destroyed == 0, "destroy not called while the engine is open");
    gpc_engine_close(engine);
    CHECK(stats.destroyed == 1, "destroy called once on close");
    CHECK(stats.unbalanced == 0, "every begin had its end");
}

/* ---------------------------------------------------------------------- */
/* 4. Misuse                                                              */

static void misuse(void) {
    kv_stats stats;
    memset(&stats, 0, sizeof stats);
    kv *db = kv_new(&stats);
    gpc_engine_options *options = test_options();
    gpc_engine *engine = NULL;

    gpc_host_storage small = table_for(db);
    small.struct_size = sizeof(size_t);
    CHECK(gpc_engine_open_host(options, &small, &engine) == GPC_RESULT_INVALID_ARGUMENT,
          "a table smaller than any layout: INVALID_ARGUMENT");
    gpc_host_storage incomplete = table_for(db);
    incomplete.scan = NULL;
    CHECK(gpc_engine_open_host(options, &incomplete, &engine) == GPC_RESULT_INVALID_ARGUMENT,
          "a table without scan: INVALID_ARGUMENT");
    char message[256];
    size_t n = 0;
    gpc_last_error(message, sizeof message, &n);
    CHECK(strstr(message, "scan") != NULL, "the error names the missing callback");
    CHECK(gpc_engine_open_host(options, NULL, &engine) == GPC_RESULT_NULL_PARAMETER,
          "a NULL table: NULL_PARAMETER");
    CHECK(engine == NULL && stats.destroyed == 0, "refused tables: user_data left to the host");
    gpc_engine_options_free(options);
    kv_destroy(db);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <practice.json>\n", argv[0]);
        return 2;
    }
    char *practice = read_file(argv[1], &practice_len);
    CHECK(practice != NULL, "read the practice bundle");
    practice_json = practice;

    conformance();
    engine_on_host_storage();
    misuse();

    free(practice);
    CHECK(gpc_live_handle_count() == 0, "every handle was freed");
    printf("host_storage.c: %d checks passed\n", checks_passed);
    return 0;
}
