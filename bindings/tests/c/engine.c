/*
 * Drives the engine through its front door, gpc_engine_handle, as a GP
 * system's HTTP layer would: search free slots, book, double-book (409),
 * a booking race between threads, cancel, getcarerecord; then a sled
 * store's durability across close and reopen, and misuse of the API (NULL
 * handles, double free, closed engines, invalid UTF-8, small buffers).
 *
 * Usage: engine <practice.json> <empty directory for a sled store>
 */
#include <pthread.h>

#include "common.h"

static const char *practice_json;
static size_t practice_len;

static gpc_engine *open_memory_engine(void) {
    gpc_engine_options *options = test_options();
    gpc_engine *engine = NULL;
    if (options == NULL || gpc_engine_open_memory(options, &engine) != GPC_RESULT_OK) engine = NULL;
    gpc_engine_options_free(options);
    return engine;
}

static void import_practice(gpc_engine *engine) {
    gpc_response *r = NULL;
    CHECK_OK(gpc_engine_import_practice(engine, (const uint8_t *)practice_json, practice_len, &r),
             "import: the call succeeds");
    CHECK_DETAIL(gpc_response_status(r) == 200, "import: 200", body_of(r));
    CHECK_DETAIL(strstr(body_of(r), "\"odsCode\":\"A00001\"") != NULL,
                 "import: the summary names the practice", body_of(r));
    gpc_response_free(r);
}

static gpc_response *search(const gpc_engine *engine) {
    request_headers h;
    if (ssp_headers(&h, IX_SEARCH_SLOTS, NULL) != 0) return NULL;
    return send_request(engine, "GET", STU3_ROOT "/Slot",
                "start=ge2030-03-04&end=le2030-03-04&status=free&_include=Slot:schedule", &h,
                NULL);
}

static gpc_response *book(const gpc_engine *engine, const char *slot, const char *location,
                          const char *start, const char *end) {
    request_headers h;
    if (ssp_headers(&h, IX_BOOK, NULL) != 0) return NULL;
    add_header(&h, "Content-Type", "application/fhir+json");
    char *body = book_body(slot, location, start, end);
    gpc_response *r = send_request(engine, "POST", STU3_ROOT "/Appointment", NULL, &h, body);
    free(body);
    return r;
}

/* The booking race: several threads book the same slot at once. */
typedef struct {
    const gpc_engine *engine;
    uint16_t status;
} racer;

static void *race(void *arg) {
    racer *me = arg;
    gpc_response *r = book(me->engine, "15-1-0", "18", "2030-03-04T10:00:00+00:00",
                           "2030-03-04T10:15:00+00:00");
    me->status = gpc_response_status(r);
    gpc_response_free(r);
    return NULL;
}

static void front_door(void) {
    gpc_engine *engine = open_memory_engine();
    CHECK(engine != NULL, "open an in-memory engine");
    import_practice(engine);

    gpc_response *r = search(engine);
    CHECK_DETAIL(gpc_response_status(r) == 200, "search: 200", body_of(r));
    CHECK(strstr(body_of(r), "\"resourceType\":\"Bundle\"") != NULL, "search: a Bundle");
    CHECK(strstr(body_of(r), "\"id\":\"14-1-0\"") != NULL, "search: slot 14-1-0 is free");
    CHECK(strcmp(header_of(r, "cache-control"), "no-store") == 0,
          "search: Cache-Control no-store (header names in any case)");
    const char *audit = NULL;
    size_t audit_len = 0;
    CHECK_OK(gpc_response_audit_json(r, &audit, &audit_len), "search: audit record");
    CHECK(audit != NULL && strstr(audit, IX_SEARCH_SLOTS) != NULL && strlen(audit) == audit_len,
          "search: the audit record names the interaction");
    size_t headers = gpc_response_header_count(r);
    CHECK(headers >= 2, "search: headers are counted");
    const char *name = NULL, *value = NULL;
    size_t name_len = 0, value_len = 0;
    CHECK(gpc_response_header(r, headers, &name, &name_len, &value, &value_len) ==
              GPC_RESULT_OUT_OF_RANGE,
          "search: a header index past the end is OUT_OF_RANGE");
    CHECK_OK(gpc_response_header(r, 0, &name, &name_len, &value, &value_len),
             "search: header 0 is read");
    CHECK(strlen(name) == name_len && strlen(value) == value_len,
          "search: header name and value are NUL-terminated too");
    gpc_response_free(r);

    r = book(engine, "14-1-0", "17", "2030-03-04T09:00:00+00:00", "2030-03-04T09:10:00+00:00");
    CHECK_DETAIL(gpc_response_status(r) == 201, "book: 201", body_of(r));
    char id[64];
    appointment_id_from_location(header_of(r, "Location"), id, sizeof id);
    CHECK(id[0] != '\0', "book: Location names the appointment");
    unsigned long long version = version_from_etag(header_of(r, "ETag"));
    CHECK(version > 0, "book: ETag carries the version");
    char *cancel = cancel_body(body_of(r));
    CHECK(cancel != NULL, "book: the body is the booked Appointment");
    gpc_response_free(r);

    r = book(engine, "14-1-0", "17", "2030-03-04T09:00:00+00:00", "2030-03-04T09:10:00+00:00");
    CHECK_DETAIL(gpc_response_status(r) == 409, "double-book: 409", body_of(r));
    CHECK(strstr(body_of(r), "DUPLICATE_REJECTED") != NULL,
          "double-book: DUPLICATE_REJECTED OperationOutcome");
    gpc_response_free(r);

    racer racers[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        racers[i].engine = engine;
        racers[i].status = 0;
        CHECK(pthread_create(&threads[i], NULL, race, &racers[i]) == 0, "race: thread started");
    }
    int booked = 0, rejected = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        booked += racers[i].status == 201;
        rejected += racers[i].status == 409;
    }
    CHECK(booked == 1 && rejected == 3,
          "race: four threads book one slot on one engine: one 201, three 409");

    request_headers h;
    CHECK(ssp_headers(&h, IX_CANCEL, NULL) == 0, "cancel: token minted");
    add_header(&h, "Content-Type", "application/fhir+json");
    char etag[64];
    snprintf(etag, sizeof etag, "W/\"%llu\"", version);
    add_header(&h, "If-Match", etag);
    char path[128];
    snprintf(path, sizeof path, STU3_ROOT "/Appointment/%s", id);
    r = send_request(engine, "PUT", path, NULL, &h, cancel);
    free(cancel);
    CHECK_DETAIL(gpc_response_status(r) == 200, "cancel: 200", body_of(r));
    CHECK(strstr(body_of(r), "\"status\":\"cancelled\"") != NULL, "cancel: status cancelled");
    gpc_response_free(r);

    r = search(engine);
    CHECK(gpc_response_status(r) == 200 && strstr(body_of(r), "\"id\":\"14-1-0\"") != NULL,
          "cancel: slot 14-1-0 is free again");
    CHECK(strstr(body_of(r), "\"id\":\"15-1-0\"") == NULL, "race: slot 15-1-0 is booked");
    gpc_response_free(r);

    CHECK(ssp_headers(&h, IX_CARE_RECORD, "9000000009") == 0, "getcarerecord: token minted");
    add_header(&h, "Content-Type", "application/json+fhir");
    static const char *care_record =
        "{\"resourceType\":\"Parameters\",\"parameter\":["
        "{\"name\":\"patientNHSNumber\",\"valueIdentifier\":{\"system\":"
        "\"http://fhir.nhs.net/Id/nhs-number\",\"value\":\"9000000009\"}},"
        "{\"name\":\"recordSection\",\"valueCodeableConcept\":{\"coding\":[{\"system\":"
        "\"http://fhir.nhs.net/ValueSet/gpconnect-record-section-1\",\"code\":\"SUM\"}]}}]}";
    r = send_request(engine, "POST", DSTU2_ROOT "/Patient/$gpc.getcarerecord", NULL, &h, care_record);
    CHECK_DETAIL(gpc_response_status(r) == 200, "getcarerecord: 200", body_of(r));
    CHECK_DETAIL(strstr(body_of(r), "\"resourceType\":\"Bundle\"") != NULL &&
                     strstr(body_of(r), "\"resourceType\":\"Composition\"") != NULL,
                 "getcarerecord: a Bundle with the Composition", body_of(r));
    CHECK_DETAIL(strstr(body_of(r), "<h1>Summary</h1>") != NULL &&
                     strstr(body_of(r), "Surgery consultation, Dr Black") != NULL,
                 "getcarerecord: the Summary of the imported record", body_of(r));
    gpc_response_free(r);

    gpc_engine_close(engine);
}

/* A sled store keeps a booking across close and reopen (reopened synced). */
static void sled_durability(const char *directory) {
    gpc_engine_options *options = test_options();
    CHECK(options != NULL, "sled: options");
    gpc_engine *engine = NULL;
    CHECK_OK(gpc_engine_open_sled(options, directory, strlen(directory), &engine),
             "sled: open on a directory");
    import_practice(engine);
    gpc_response *r =
        book(engine, "15-1-2", "18", "2030-03-04T10:30:00+00:00", "2030-03-04T10:45:00+00:00");
    CHECK_DETAIL(gpc_response_status(r) == 201, "sled: book 201", body_of(r));
    char path[128];
    char id[64];
    appointment_id_from_location(header_of(r, "Location"), id, sizeof id);
    snprintf(path, sizeof path, STU3_ROOT "/Appointment/%s", id);
    gpc_response_free(r);
    gpc_engine_close(engine);

    /* Reopened with fdatasync after each flush: the same data. */
    CHECK_OK(gpc_engine_options_set_sled_durability(options, GPC_SLED_DURABILITY_SYNCED),
             "sled: synced durability accepted");
    gpc_engine *again = NULL;
    CHECK(gpc_engine_open_sled(options, directory, strlen(directory), &again) == GPC_RESULT_OK,
          "sled: reopen after close");
    request_headers h;
    CHECK(ssp_headers(&h, IX_READ_APPOINTMENT, NULL) == 0, "sled: token minted");
    r = send_request(again, "GET", path, NULL, &h, NULL);
    CHECK_DETAIL(gpc_response_status(r) == 200 && strstr(body_of(r), "Slot/15-1-2") != NULL,
                 "sled: the booking survived close and reopen", body_of(r));
    gpc_response_free(r);
    gpc_engine_close(again);
    gpc_engine_options_free(options);
}

/* An Access Record section rendered from the host's own record. */
static void render_section(void) {
    static const char *record =
        "{\"encounters\":[{\"date\":\"2030-02-01\",\"title\":\"Dr Jones at the surgery\","
        "\"details\":\"Reviewed <script>alert(1)</script> & advised\"}]}";
    static const char *request = "{\"section\":\"ENC\",\"today\":\"2030-03-01\"}";
    gpc_response *r = NULL;
    CHECK_OK(gpc_render_section((const uint8_t *)record, strlen(record), request, strlen(request),
                                &r),
             "render: the call succeeds");
    CHECK(gpc_response_status(r) == 200, "render: 200");
    const char *html = body_of(r);
    static const char *root = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
    CHECK_DETAIL(strncmp(html, root, strlen(root)) == 0 &&
                     strstr(html, "Dr Jones at the surgery") != NULL,
                 "render: the ENC view of the record", html);
    CHECK_DETAIL(strstr(html, "<script>") == NULL && strstr(html, "&lt;script&gt;") != NULL,
                 "render: free text is escaped", html);
    CHECK(strcmp(header_of(r, "Content-Type"), "application/xhtml+xml;charset=utf-8") == 0,
          "render: XHTML content type");
    gpc_response_free(r);
    r = NULL;
    CHECK(gpc_render_section((const uint8_t *)record, strlen(record), "{\"section\":\"XYZ\"}", 17,
                             &r) == GPC_RESULT_INVALID_ARGUMENT &&
              r == NULL,
          "render: an unknown section is INVALID_ARGUMENT");
}

static void misuse(void) {
    gpc_engine *engine = open_memory_engine();
    CHECK(engine != NULL, "misuse: engine");
    gpc_response *r = NULL;
    request_headers h;
    CHECK(ssp_headers(&h, IX_SEARCH_SLOTS, NULL) == 0, "misuse: token minted");

    CHECK(gpc_engine_handle(NULL, "GET", 3, "/", 1, NULL, 0, NULL, 0, NULL, 0, &r) ==
              GPC_RESULT_NULL_PARAMETER,
          "NULL engine: NULL_PARAMETER");
    CHECK(gpc_engine_handle(engine, "GET", 3, NULL, 5, NULL, 0, NULL, 0, NULL, 0, &r) ==
              GPC_RESULT_NULL_PARAMETER,
          "NULL path with a length: NULL_PARAMETER");
    CHECK(gpc_engine_handle(engine, "GET", 3, "/", 1, NULL, 0, NULL, 0, NULL, 0, NULL) ==
              GPC_RESULT_NULL_PARAMETER,
          "NULL response_out: NULL_PARAMETER");
    CHECK(r == NULL, "failed calls hand out nothing");

    char message[256];
    size_t n = 0;
    CHECK_OK(gpc_last_error(message, sizeof message, &n), "last error is readable");
    CHECK(strstr(message, "gpc_engine_handle") != NULL && strstr(message, "response_out") != NULL,
          "last error names the function and the argument");
    char tiny[8];
    CHECK_OK(gpc_last_error(tiny, sizeof tiny, &n), "last error into a small buffer");
    CHECK(n >= sizeof tiny && strlen(tiny) == sizeof tiny - 1,
          "small buffer: truncated, NUL-terminated, full length reported");
    CHECK_OK(gpc_error(GPC_RESULT_INVALID_UTF8, message, sizeof message, &n), "gpc_error");
    CHECK(strstr(message, "UTF-8") != NULL, "gpc_error describes the code");
    CHECK_OK(gpc_error(9999, message, sizeof message, &n), "gpc_error of an unknown code");
    gpc_header broken = {"Accept", 6, NULL, 4};
    CHECK(gpc_engine_handle(engine, "GET", 3, "/", 1, NULL, 0, &broken, 1, NULL, 0, &r) ==
              GPC_RESULT_NULL_PARAMETER,
          "a header value NULL with a length: NULL_PARAMETER");

    static const char bad_path[] = "/A00001/STU3/1/gpconnect/Sl\xff\xfe";
    CHECK_OK(gpc_engine_handle(engine, "GET", 3, bad_path, sizeof bad_path - 1, NULL, 0,
                               h.headers, h.count, NULL, 0, &r),
             "invalid UTF-8 path: answered");
    CHECK_DETAIL(gpc_response_status(r) == 400 && strstr(body_of(r), "UTF-8") != NULL,
                 "invalid UTF-8 path: 400 OperationOutcome", body_of(r));
    gpc_response_free(r);
    gpc_response_free(r); /* double free: ignored */
    CHECK(gpc_response_status(r) == 0, "freed response: status 0");
    const uint8_t *body = NULL;
    size_t len = 0;
    CHECK(gpc_response_body(r, &body, &len) == GPC_RESULT_INVALID_HANDLE,
          "freed response: INVALID_HANDLE");
    gpc_response_free(NULL); /* ignored */
    CHECK(gpc_response_body((const gpc_response *)engine, &body, &len) ==
              GPC_RESULT_INVALID_HANDLE,
          "an engine passed as a response: INVALID_HANDLE");

    static const char bad_ods[] = "A0\xc3";
    CHECK(gpc_engine_search_free_slots(engine, bad_ods, 3, "2030-03-04", 10, "2030-03-04", 10,
                                       NULL, 0, NULL, 0, &r) == GPC_RESULT_INVALID_UTF8,
          "typed call with an invalid UTF-8 ODS code: INVALID_UTF8");
    CHECK_OK(gpc_engine_search_free_slots(engine, "Z99999", 6, "2030-03-04", 10, "2030-03-04",
                                          10, NULL, 0, NULL, 0, &r),
             "typed search of an unknown practice: answered");
    CHECK(gpc_response_status(r) == 404 && strstr(body_of(r), "ORGANISATION_NOT_FOUND") != NULL,
          "unknown practice: 404 ORGANISATION_NOT_FOUND");
    gpc_response_free(r);

    char token[16];
    CHECK(gpc_token_bearer(IX_BOOK, strlen(IX_BOOK), "A1", 2, NOW_UNIX, NULL, 0, token,
                           sizeof token, &n) == GPC_RESULT_BUFFER_TOO_SMALL &&
              n > sizeof token,
          "a token into a small buffer: BUFFER_TOO_SMALL with the length needed");
    CHECK(gpc_token_bearer("urn:nope", 8, "A1", 2, NOW_UNIX, NULL, 0, h.token, sizeof h.token,
                           &n) == GPC_RESULT_INVALID_ARGUMENT,
          "a token for an unknown interaction: INVALID_ARGUMENT");

    gpc_engine_options *options = NULL;
    CHECK_OK(gpc_engine_options_new(&options), "options");
    gpc_engine *none = NULL;
    CHECK(gpc_engine_open_memory(options, &none) == GPC_RESULT_INVALID_ARGUMENT && none == NULL,
          "options without software: INVALID_ARGUMENT");
    CHECK(gpc_engine_options_set_fixed_now(options, "yesterday", 9) ==
              GPC_RESULT_INVALID_ARGUMENT,
          "a malformed fixed now: INVALID_ARGUMENT");
    CHECK(gpc_engine_options_set_sled_durability(options, 7) == GPC_RESULT_INVALID_ARGUMENT,
          "an unknown durability: INVALID_ARGUMENT");
    gpc_engine_options_free(options);
    gpc_engine_options_free(options); /* double free: ignored */
    CHECK(gpc_engine_open_memory(options, &none) == GPC_RESULT_INVALID_HANDLE,
          "freed options: INVALID_HANDLE");
    CHECK(gpc_engine_open_memory(NULL, &none) == GPC_RESULT_NULL_PARAMETER,
          "NULL options: NULL_PARAMETER");

    gpc_engine_close(engine);
    gpc_engine_close(engine); /* double close: ignored */
    gpc_engine_close(NULL);
    CHECK(gpc_engine_handle(engine, "GET", 3, "/", 1, NULL, 0, NULL, 0, NULL, 0, &r) ==
              GPC_RESULT_INVALID_HANDLE,
          "closed engine: INVALID_HANDLE");
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <practice.json> <empty sled directory>\n", argv[0]);
        return 2;
    }
    char *practice = read_file(argv[1], &practice_len);
    CHECK(practice != NULL, "read the practice bundle");
    practice_json = practice;
    CHECK(strncmp(gpc_version(), "gpconnect-ffi ", 14) == 0, "gpc_version");

    front_door();
    sled_durability(argv[2]);
    render_section();
    misuse();

    free(practice);
    CHECK(gpc_live_handle_count() == 0, "every handle was freed");
    printf("engine.c: %d checks passed\n", checks_passed);
    return 0;
}
