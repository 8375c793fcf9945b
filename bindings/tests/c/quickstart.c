/* Quick start: an engine in memory, a practice loaded, free slots found. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpconnect.h"

static int fail(const char *what) {
    char message[512];
    size_t n = 0;
    gpc_last_error(message, sizeof message, &n);
    fprintf(stderr, "%s failed: %s\n", what, message);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    FILE *f = fopen(argv[1], "rb"); /* a practice bundle, e.g. examples/practice.json */
    if (f == NULL) return 2;
    static uint8_t bundle[1 << 20];
    size_t bundle_len = fread(bundle, 1, sizeof bundle, f);
    fclose(f);

    /* Options: who we are, and (for this example) a fixed "now". */
    gpc_engine_options *options = NULL;
    if (gpc_engine_options_new(&options) != GPC_RESULT_OK) return fail("options");
    gpc_engine_options_set_software(options, "GP System", 9, "4.2.0", 5, "Example Supplier", 16,
                                    "2030-01-15", 10);
    gpc_engine_options_set_fixed_now(options, "2030-03-01T10:00:00Z", 20);

    gpc_engine *engine = NULL; /* thread-safe: share it between threads */
    gpc_result rc = gpc_engine_open_memory(options, &engine);
    gpc_engine_options_free(options); /* the engine copied what it needs */
    if (rc != GPC_RESULT_OK) return fail("open");

    gpc_response *response = NULL; /* ours to free, whatever its status */
    if (gpc_engine_import_practice(engine, bundle, bundle_len, &response) != GPC_RESULT_OK)
        return fail("import");
    printf("import: %u\n", (unsigned)gpc_response_status(response));
    gpc_response_free(response);

    if (gpc_engine_search_free_slots(engine, "A00001", 6, "2030-03-04", 10, "2030-03-04", 10, NULL,
                                     0, NULL, 0, &response) != GPC_RESULT_OK)
        return fail("search");
    const uint8_t *body = NULL;
    size_t body_len = 0;
    gpc_response_body(response, &body, &body_len); /* borrowed until freed */
    printf("search: %u, %zu bytes of FHIR JSON\n", (unsigned)gpc_response_status(response),
           body_len);
    gpc_response_free(response);

    gpc_engine_close(engine);
    return 0;
}
