/*
 * The hold lifecycle through the C API, in C99: extend a hold (capped by the maximum hold
 * life), release one of its seats, refuse seats it does not have, book the rest, cancel the
 * booking twice, and refuse booking its hold again. Every object is freed (test.sh runs it
 * under valgrind too). Exits 0 when every check holds.
 *
 *   DATABASE_URL=postgres://... ./lifecycle SHOW_ID
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seatcore.h"

static int failures = 0;

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                               \
        }                                                             \
    } while (0)

/* Whether `got` is the string `want` (NULL is no string). */
static int same(const char *got, const char *want) { return got != NULL && strcmp(got, want) == 0; }

/* Checks a call's code; on failure prints and frees its error object. */
static int expect(const char *what, seatcore_result got, seatcore_result want, seatcore_error *err) {
    if (got != want) {
        fprintf(stderr, "%s: %s, expected %s: %s\n", what, seatcore_result_name(got), seatcore_result_name(want),
                err ? err->message : "(no error object)");
        failures++;
    }
    seatcore_error_free(err);
    return got == want;
}

/* Whether a list of seats is exactly `want` (NULL-terminated). */
static int same_list(seatcore_seats got, const char *const *want) {
    size_t i;
    for (i = 0; i < got.count; i++) {
        if (want[i] == NULL || !same(got.ids[i], want[i])) {
            return 0;
        }
    }
    return want[got.count] == NULL;
}

int main(int argc, char **argv) {
    const char *url = getenv("DATABASE_URL");
    const char *show = argc > 1 ? argv[1] : "c_lifecycle";
    const char *map[] = {"A1", "A2", "A3", "A4"};
    const char *three[] = {"A1", "A2", "A3", NULL};
    const char *one[] = {"A2", NULL};
    const char *kept[] = {"A1", "A3", NULL};
    const char *absent[] = {"A1", "A4"};
    const char *not_in_hold[] = {"A4", NULL};
    seatcore_options options = seatcore_options_default();
    seatcore_client *client = NULL;
    seatcore_hold *hold = NULL, *extended = NULL, *anew = NULL;
    seatcore_seats_released *released = NULL;
    seatcore_booking *booking = NULL;
    seatcore_cancellation *cancelled = NULL, *again = NULL;
    seatcore_audit_report *audit = NULL;
    seatcore_error *err = NULL;
    char hold_id[64];
    int64_t gained;
    seatcore_result rc;

    if (url == NULL) {
        fprintf(stderr, "lifecycle: DATABASE_URL is not set\n");
        return 2;
    }
    options.max_hold_life_s = 0;
    rc = seatcore_client_new(url, &options, &client, &err);
    (void)expect("max hold life 0", rc, SEATCORE_CONFIG, err);
    CHECK(client == NULL);
    options.max_hold_life_s = 120;
    err = NULL;
    rc = seatcore_client_new(url, &options, &client, &err);
    if (!expect("connect", rc, SEATCORE_OK, err)) {
        return 1;
    }
    err = NULL;
    rc = seatcore_initialize_show(client, show, (seatcore_seats){map, 4}, NULL, &err);
    (void)expect("initialize", rc, SEATCORE_OK, err);
    err = NULL;
    rc = seatcore_hold_seats(client, show, (seatcore_seats){three, 3}, 60, NULL, &hold, &err);
    if (!expect("hold", rc, SEATCORE_OK, err)) {
        goto done;
    }
    strncpy(hold_id, hold->id, sizeof hold_id - 1);
    hold_id[sizeof hold_id - 1] = '\0';

    /* extend: capped at creation + 120 s, i.e. about 60 s past the 60 s hold's expiry */
    err = NULL;
    rc = seatcore_extend_hold(client, show, hold_id, 3600, &extended, &err);
    if (!expect("extend", rc, SEATCORE_OK, err)) {
        goto done;
    }
    gained = extended->at_us - hold->at_us;
    CHECK(gained > 0 && gained <= 60 * 1000000LL);
    CHECK(same_list(extended->seats, three));
    CHECK(same(extended->id, hold_id));

    /* release one seat; the hold keeps A1 and A3 */
    err = NULL;
    rc = seatcore_release_seats(client, show, hold_id, (seatcore_seats){one, 1}, &released, &err);
    if (!expect("release A2", rc, SEATCORE_OK, err)) {
        goto done;
    }
    CHECK(same(released->hold_id, hold_id));
    CHECK(same_list(released->released, one));
    CHECK(same_list(released->remaining, kept));
    seatcore_seats_released_free(released);

    /* seats it does not have: named, nothing released */
    released = NULL;
    err = NULL;
    CHECK(seatcore_release_seats(client, show, hold_id, (seatcore_seats){absent, 2}, &released, &err) ==
          SEATCORE_SEATS_NOT_IN_HOLD);
    CHECK(released == NULL);
    CHECK(err != NULL && err->code == SEATCORE_SEATS_NOT_IN_HOLD);
    CHECK(err != NULL && same_list(err->not_in_hold, not_in_hold));
    CHECK(err != NULL && err->unavailable.count == 0 && !err->has_index);
    seatcore_error_free(err);

    /* bad input: NULLs, a non-UUID */
    err = NULL;
    rc = seatcore_extend_hold(client, show, NULL, 60, &extended, &err);
    (void)expect("extend NULL hold", rc, SEATCORE_NULL_PARAMETER, err);
    err = NULL;
    rc = seatcore_release_seats(client, show, hold_id, (seatcore_seats){NULL, 1}, NULL, &err);
    (void)expect("release NULL list", rc, SEATCORE_NULL_PARAMETER, err);
    err = NULL;
    rc = seatcore_cancel_booking(client, show, "nope", &cancelled, &err);
    (void)expect("cancel non-UUID", rc, SEATCORE_BOOKING_NOT_FOUND, err);
    CHECK(cancelled == NULL);

    /* book the rest, cancel twice, booking the hold again is refused */
    err = NULL;
    rc = seatcore_book_hold(client, show, hold_id, &booking, &err);
    if (!expect("book", rc, SEATCORE_OK, err)) {
        goto done;
    }
    CHECK(same_list(booking->seats, kept));
    err = NULL;
    rc = seatcore_cancel_booking(client, show, hold_id, &cancelled, &err);
    if (!expect("cancel", rc, SEATCORE_OK, err)) {
        goto done;
    }
    err = NULL;
    rc = seatcore_cancel_booking(client, show, hold_id, &again, &err);
    if (!expect("cancel again", rc, SEATCORE_OK, err)) {
        goto done;
    }
    CHECK(same_list(cancelled->seats, kept));
    CHECK(same(cancelled->id, hold_id) && same(cancelled->show_id, show));
    CHECK(again->at_us == cancelled->at_us && same(again->at, cancelled->at));
    CHECK(cancelled->at_us >= booking->at_us);
    printf("cancelled booking %s of show %s at %s\n", cancelled->id, cancelled->show_id, cancelled->at);
    seatcore_booking_free(booking);
    booking = NULL;
    err = NULL;
    rc = seatcore_book_hold(client, show, hold_id, &booking, &err);
    (void)expect("book again", rc, SEATCORE_BOOKING_CANCELLED, err);
    CHECK(booking == NULL);

    /* a list read back is an argument as it is: the cancelled booking's seats held anew, then
     * every seat of that hold released by the hold's own list (which releases the hold) */
    err = NULL;
    rc = seatcore_hold_seats(client, show, cancelled->seats, 60, NULL, &anew, &err);
    if (expect("hold anew", rc, SEATCORE_OK, err)) {
        CHECK(same_list(anew->seats, kept));
        err = NULL;
        rc = seatcore_release_seats(client, show, anew->id, anew->seats, NULL, &err);
        (void)expect("release every seat", rc, SEATCORE_OK, err);
    }

    /* the end state */
    err = NULL;
    rc = seatcore_audit(client, show, &audit, &err);
    if (expect("audit", rc, SEATCORE_OK, err)) {
        CHECK(audit->summary.ok && audit->summary.held == 0 && audit->summary.booked == 0);
    }

done:
    seatcore_audit_free(audit);
    seatcore_cancellation_free(cancelled);
    seatcore_cancellation_free(again);
    seatcore_booking_free(booking);
    seatcore_seats_released_free(released);
    seatcore_hold_free(anew);
    seatcore_hold_free(extended);
    seatcore_hold_free(hold);
    seatcore_client_free(client);
    if (failures) {
        fprintf(stderr, "lifecycle: %d checks failed\n", failures);
        return 1;
    }
    printf("OK\n");
    return 0;
}
