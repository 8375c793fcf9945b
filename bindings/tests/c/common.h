/*
 * Helpers shared by the C test programs: checks that count and report,
 * reading a file, string surgery on JSON bodies (these programs use no JSON
 * library, as a small C host might not), and building GP Connect requests.
 *
 * Each program prints "ok <what>" per passed check and ends with
 * "<program>: <n> checks passed", exiting 0; the first failed check prints
 * "FAIL ..." and exits 1.
 */
#ifndef GPC_TEST_COMMON_H
#define GPC_TEST_COMMON_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpconnect.h"

static int checks_passed = 0;

static void fail(const char *file, int line, const char *what, const char *detail) {
    char message[512];
    size_t n = 0;
    gpc_last_error(message, sizeof message, &n);
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
    if (detail != NULL) {
        fprintf(stderr, "  detail: %.2000s\n", detail);
    }
    fprintf(stderr, "  last error: %s\n", message);
    exit(1);
}

#define CHECK(cond, what)                                   \
    do {                                                    \
        if (!(cond)) fail(__FILE__, __LINE__, what, NULL);  \
        checks_passed++;                                    \
        printf("ok %s\n", what);                            \
    } while (0)

#define CHECK_DETAIL(cond, what, detail)                      \
    do {                                                      \
        if (!(cond)) fail(__FILE__, __LINE__, what, detail);  \
        checks_passed++;                                      \
        printf("ok %s\n", what);                              \
    } while (0)

/* A call that must return GPC_RESULT_OK. */
#define CHECK_OK(call, what) CHECK((call) == GPC_RESULT_OK, what)

/* The whole of a file, NUL-terminated; *len_out is its length. */
static char *read_file(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (bigger == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

/* s with the first occurrence of `from` replaced by `to` (malloc'd), or NULL. */
static char *replace_first(const char *s, const char *from, const char *to) {
    const char *at = strstr(s, from);
    if (at == NULL) return NULL;
    size_t head = (size_t)(at - s), from_len = strlen(from), to_len = strlen(to);
    size_t tail = strlen(at + from_len);
    char *out = malloc(head + to_len + tail + 1);
    if (out == NULL) return NULL;
    memcpy(out, s, head);
    memcpy(out + head, to, to_len);
    memcpy(out + head + to_len, at + from_len, tail + 1);
    return out;
}

/*
 * The cancel body for a booked appointment as the engine returned it: the
 * same resource with status "cancelled" and a cancellation reason
 * extension added to its extension array (malloc'd), or NULL.
 */
static char *cancel_body(const char *booked) {
    char *cancelled = replace_first(booked, "\"status\":\"booked\"", "\"status\":\"cancelled\"");
    if (cancelled == NULL) return NULL;
    char *out = replace_first(
        cancelled, "\"extension\":[",
        "\"extension\":[{\"url\":\"https://fhir.nhs.uk/STU3/StructureDefinition/"
        "Extension-GPConnect-AppointmentCancellationReason-1\",\"valueString\":"
        "\"Patient no longer needs it\"},");
    free(cancelled);
    return out;
}

/* A response's body as a C string (the library NUL-terminates it). */
static const char *body_of(const gpc_response *r) {
    const uint8_t *body = NULL;
    size_t len = 0;
    if (gpc_response_body(r, &body, &len) != GPC_RESULT_OK) return "";
    return (const char *)body;
}

/* A response header's value as a C string, or "" when absent. */
static const char *header_of(const gpc_response *r, const char *name) {
    const char *value = NULL;
    size_t len = 0;
    if (gpc_response_header_value(r, name, strlen(name), &value, &len) != GPC_RESULT_OK ||
        value == NULL)
        return "";
    return value;
}

/* Copies `text` into `buf` (of `cap` bytes) up to `stop` (exclusive). */
static void copy_until(char *buf, size_t cap, const char *text, char stop) {
    size_t i = 0;
    while (text[i] != '\0' && text[i] != stop && i + 1 < cap) {
        buf[i] = text[i];
        i++;
    }
    buf[i] = '\0';
}

/* The logical id of the appointment a Location header names. */
static void appointment_id_from_location(const char *location, char *id, size_t cap) {
    const char *at = strstr(location, "/Appointment/");
    if (at == NULL) {
        id[0] = '\0';
        return;
    }
    copy_until(id, cap, at + strlen("/Appointment/"), '/');
}

/* The version in an ETag W/"n". */
static unsigned long long version_from_etag(const char *etag) {
    const char *quote = strchr(etag, '"');
    return quote == NULL ? 0 : strtoull(quote + 1, NULL, 10);
}

#define CONSUMER_ODS "A20047"
#define PRACTICE_ODS "A00001"
#define PRACTICE_ASID "900000000001"
#define STU3_ROOT "/A00001/STU3/1/gpconnect"
#define DSTU2_ROOT "/A00001/DSTU2/0/gpconnect"
/* 2030-03-01T10:00:00Z, the engine's fixed "now". */
#define NOW_ISO "2030-03-01T10:00:00Z"
#define NOW_UNIX 1898589600LL

#define IX_SEARCH_SLOTS "urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1"
#define IX_BOOK "urn:nhs:names:services:gpconnect:fhir:rest:create:appointment-1"
#define IX_READ_APPOINTMENT "urn:nhs:names:services:gpconnect:fhir:rest:read:appointment-1"
#define IX_CANCEL "urn:nhs:names:services:gpconnect:fhir:rest:cancel:appointment-1"
#define IX_CARE_RECORD "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getcarerecord"

/* The booking body for one slot (A2), from the A20047 surgery, patient 2. */
static char *book_body(const char *slot, const char *location, const char *start, const char *end) {
    static const char *format =
        "{\"resourceType\":\"Appointment\","
        "\"meta\":{\"profile\":[\"https://fhir.nhs.uk/STU3/StructureDefinition/"
        "GPConnect-Appointment-1\"]},"
        "\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"1\","
        "\"meta\":{\"profile\":[\"https://fhir.nhs.uk/STU3/StructureDefinition/"
        "CareConnect-GPC-Organization-1\"]},"
        "\"identifier\":[{\"system\":\"https://fhir.nhs.uk/Id/ods-organization-code\","
        "\"value\":\"" CONSUMER_ODS "\"}],"
        "\"name\":\"Consumer Surgery\",\"telecom\":[{\"system\":\"phone\",\"value\":"
        "\"0300 303 5678\"}]}],"
        "\"extension\":[{\"url\":\"https://fhir.nhs.uk/STU3/StructureDefinition/"
        "Extension-GPConnect-BookingOrganisation-1\",\"valueReference\":{\"reference\":\"#1\"}}],"
        "\"status\":\"booked\",\"description\":\"Booked from C\","
        "\"start\":\"%s\",\"end\":\"%s\","
        "\"slot\":[{\"reference\":\"Slot/%s\"}],"
        "\"created\":\"2030-03-01T09:00:00+00:00\",\"comment\":\"Booked from C\","
        "\"participant\":[{\"actor\":{\"reference\":\"Patient/2\"},\"status\":\"accepted\"},"
        "{\"actor\":{\"reference\":\"Location/%s\"},\"status\":\"accepted\"}]}";
    size_t cap = strlen(format) + strlen(slot) + strlen(location) + strlen(start) + strlen(end);
    char *out = malloc(cap);
    if (out != NULL) snprintf(out, cap, format, start, end, slot, location);
    return out;
}

/* A GP Connect request under construction: the SSP headers and a token. */
typedef struct {
    char token[4096];
    gpc_header headers[8];
    size_t count;
} request_headers;

static void add_header(request_headers *h, const char *name, const char *value) {
    h->headers[h->count].name = name;
    h->headers[h->count].name_len = strlen(name);
    h->headers[h->count].value = value;
    h->headers[h->count].value_len = strlen(value);
    h->count++;
}

/*
 * The SSP headers and Authorization for `interaction`, with a token minted
 * for it (and for `record` on DSTU2 interactions; may be NULL). Returns 0
 * on success.
 */
static int ssp_headers(request_headers *h, const char *interaction, const char *record) {
    size_t n = 0;
    h->count = 0;
    if (gpc_token_bearer(interaction, strlen(interaction), CONSUMER_ODS, strlen(CONSUMER_ODS),
                         NOW_UNIX, record, record == NULL ? 0 : strlen(record), h->token,
                         sizeof h->token, &n) != GPC_RESULT_OK)
        return -1;
    add_header(h, "Ssp-TraceID", "09a01679-2564-0fb4-5129-aecc81ea2706");
    add_header(h, "Ssp-From", "200000000359");
    add_header(h, "Ssp-To", PRACTICE_ASID);
    add_header(h, "Ssp-InteractionID", interaction);
    add_header(h, "Authorization", h->token);
    return 0;
}

/* engine.handle with C strings; the response or NULL. */
static gpc_response *send_request(const gpc_engine *engine, const char *method, const char *path,
                          const char *query, const request_headers *h, const char *body) {
    gpc_response *r = NULL;
    gpc_result rc = gpc_engine_handle(engine, method, strlen(method), path, strlen(path), query,
                                      query == NULL ? 0 : strlen(query), h->headers, h->count,
                                      (const uint8_t *)body, body == NULL ? 0 : strlen(body), &r);
    return rc == GPC_RESULT_OK ? r : NULL;
}

/* Options for the test engines: software, and the clock stopped at NOW_ISO. */
static gpc_engine_options *test_options(void) {
    gpc_engine_options *options = NULL;
    if (gpc_engine_options_new(&options) != GPC_RESULT_OK) return NULL;
    if (gpc_engine_options_set_software(options, "GP System", 9, "4.2.0", 5, "Example Supplier",
                                        16, "2030-01-15", 10) != GPC_RESULT_OK ||
        gpc_engine_options_set_fixed_now(options, NOW_ISO, strlen(NOW_ISO)) != GPC_RESULT_OK) {
        gpc_engine_options_free(options);
        return NULL;
    }
    return options;
}

#endif /* GPC_TEST_COMMON_H */
