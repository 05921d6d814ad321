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
                err ? seatcore_error_message(err) : "(no error object)");
        failures++;
    }
    seatcore_error_free(err);
    return got == want;
}

int main(int argc, char **argv) {
    const char *url = getenv("DATABASE_URL");
    const char *show = argc > 1 ? argv[1] : "c_lifecycle";
    const char *map[] = {"A1", "A2", "A3", "A4"};
    const char *three[] = {"A1", "A2", "A3"};
    const char *one[] = {"A2"};
    const char *absent[] = {"A1", "A4"};
    seatcore_options *options = seatcore_options_new();
    seatcore_client *client = NULL;
    seatcore_hold *hold = NULL, *extended = NULL;
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
    rc = seatcore_options_set_max_hold_life_s(options, 120, &err);
    (void)expect("max hold life", rc, SEATCORE_OK, err);
    err = NULL;
    rc = seatcore_options_set_max_hold_life_s(options, 0, &err);
    (void)expect("max hold life 0", rc, SEATCORE_CONFIG, err);
    err = NULL;
    rc = seatcore_client_new(url, options, &client, &err);
    if (!expect("connect", rc, SEATCORE_OK, err)) {
        seatcore_options_free(options);
        return 1;
    }
    seatcore_options_free(options);
    err = NULL;
    rc = seatcore_initialize_show(client, show, map, 4, NULL, &err);
    (void)expect("initialize", rc, SEATCORE_OK, err);
    err = NULL;
    rc = seatcore_hold_seats(client, show, three, 3, 60, &hold, &err);
    if (!expect("hold", rc, SEATCORE_OK, err)) {
        seatcore_client_free(client);
        return 1;
    }
    strncpy(hold_id, seatcore_hold_id(hold), sizeof hold_id - 1);
    hold_id[sizeof hold_id - 1] = '\0';

    /* extend: capped at creation + 120 s, i.e. about 60 s past the 60 s hold's expiry */
    err = NULL;
    rc = seatcore_extend_hold(client, show, hold_id, 3600, &extended, &err);
    (void)expect("extend", rc, SEATCORE_OK, err);
    gained = seatcore_hold_expires_at_us(extended) - seatcore_hold_expires_at_us(hold);
    CHECK(gained > 0 && gained <= 60 * 1000000LL);
    CHECK(seatcore_hold_seat_count(extended) == 3);
    seatcore_hold_free(extended);

    /* release one seat; the hold keeps A1 and A3 */
    err = NULL;
    rc = seatcore_release_seats(client, show, hold_id, one, 1, &released, &err);
    (void)expect("release A2", rc, SEATCORE_OK, err);
    CHECK(seatcore_seats_released_seat_count(released) == 1);
    CHECK(same(seatcore_seats_released_seat_id(released, 0), "A2"));
    CHECK(seatcore_seats_released_remaining_count(released) == 2);
    CHECK(same(seatcore_seats_released_remaining_seat_id(released, 0), "A1"));
    CHECK(same(seatcore_seats_released_remaining_seat_id(released, 1), "A3"));
    CHECK(seatcore_seats_released_remaining_seat_id(released, 2) == NULL);
    seatcore_seats_released_free(released);

    /* seats it does not have: named, nothing released */
    released = NULL;
    err = NULL;
    CHECK(seatcore_release_seats(client, show, hold_id, absent, 2, &released, &err) == SEATCORE_SEATS_NOT_IN_HOLD);
    CHECK(released == NULL);
    CHECK(seatcore_error_code(err) == SEATCORE_SEATS_NOT_IN_HOLD);
    CHECK(seatcore_error_not_in_hold_count(err) == 1);
    CHECK(same(seatcore_error_not_in_hold_seat(err, 0), "A4"));
    seatcore_error_free(err);

    /* bad input: NULLs, a non-UUID */
    err = NULL;
    rc = seatcore_extend_hold(client, show, NULL, 60, &extended, &err);
    (void)expect("extend NULL hold", rc, SEATCORE_NULL_PARAMETER, err);
    err = NULL;
    rc = seatcore_release_seats(client, show, hold_id, NULL, 1, NULL, &err);
    (void)expect("release NULL list", rc, SEATCORE_NULL_PARAMETER, err);
    err = NULL;
    rc = seatcore_cancel_booking(client, show, "nope", &cancelled, &err);
    (void)expect("cancel non-UUID", rc, SEATCORE_BOOKING_NOT_FOUND, err);
    CHECK(cancelled == NULL);

    /* book the rest, cancel twice, booking the hold again is refused */
    err = NULL;
    rc = seatcore_book_hold(client, show, hold_id, &booking, &err);
    (void)expect("book", rc, SEATCORE_OK, err);
    CHECK(seatcore_booking_seat_count(booking) == 2);
    err = NULL;
    rc = seatcore_cancel_booking(client, show, hold_id, &cancelled, &err);
    (void)expect("cancel", rc, SEATCORE_OK, err);
    err = NULL;
    rc = seatcore_cancel_booking(client, show, hold_id, &again, &err);
    (void)expect("cancel again", rc, SEATCORE_OK, err);
    CHECK(seatcore_cancellation_seat_count(cancelled) == 2);
    CHECK(same(seatcore_cancellation_seat_id(cancelled, 1), "A3"));
    CHECK(seatcore_cancellation_cancelled_at_us(again) == seatcore_cancellation_cancelled_at_us(cancelled));
    CHECK(seatcore_cancellation_cancelled_at_us(cancelled) >= seatcore_booking_booked_at_us(booking));
    printf("cancelled booking %s of show %s at %s\n", seatcore_cancellation_booking_id(cancelled),
           seatcore_cancellation_show_id(cancelled), seatcore_cancellation_cancelled_at(cancelled));
    seatcore_booking_free(booking);
    booking = NULL;
    err = NULL;
    rc = seatcore_book_hold(client, show, hold_id, &booking, &err);
    (void)expect("book again", rc, SEATCORE_BOOKING_CANCELLED, err);
    CHECK(booking == NULL);
    seatcore_cancellation_free(cancelled);
    seatcore_cancellation_free(again);

    /* the end state */
    err = NULL;
    rc = seatcore_audit(client, show, &audit, &err);
    (void)expect("audit", rc, SEATCORE_OK, err);
    CHECK(seatcore_audit_ok(audit) && seatcore_audit_held(audit) == 0 && seatcore_audit_booked(audit) == 0);
    seatcore_audit_free(audit);
    seatcore_hold_free(hold);
    seatcore_client_free(client);
    if (failures) {
        fprintf(stderr, "lifecycle: %d checks failed\n", failures);
        return 1;
    }
    printf("OK\n");
    return 0;
}
