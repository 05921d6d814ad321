/*
 * Bad input through the C API: NULL handles and strings, non-UTF-8 bytes, empty lists,
 * absurd counts, options out of range, configurations that cannot work. Each must give its
 * error code and a readable message, write nothing, and change nothing (no client is made;
 * in the database the audit finds every invariant kept). Run by bindings/c/test.sh (also
 * under valgrind).
 *
 *   DATABASE_URL=postgres://... ./bad_input
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seatcore.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            fprintf(stderr, "bad_input.c:%d: check failed: %s\n", __LINE__, #cond); \
            failures++;                                                          \
        }                                                                        \
    } while (0)

/* A pointer value no successful call would write. */
#define SENTINEL ((void *)(uintptr_t)0x5ea7)

/* Checks a failed call: the code, an error object with the same code and a message that
 * contains `needle`; frees the error. */
static void expect(int line, seatcore_result got, seatcore_result want, seatcore_error *err,
                   const char *needle) {
    const char *msg = err ? err->message : NULL;
    checks++;
    if (got != want || err == NULL || err->code != want || msg == NULL ||
        strstr(msg, needle) == NULL) {
        fprintf(stderr, "bad_input.c:%d: got %s (%s), want %s with \"%s\"\n", line,
                seatcore_result_name(got), msg ? msg : "no message", seatcore_result_name(want), needle);
        failures++;
    }
    seatcore_error_free(err);
}
#define EXPECT(call, want, needle)                       \
    do {                                                 \
        seatcore_error *err_ = NULL;                     \
        seatcore_result rc_ = call;                      \
        expect(__LINE__, rc_, want, err_, needle);       \
    } while (0)
/* `call` must use `&err_` as its error argument. */

/* Opening a client with one option out of range: SEATCORE_CONFIG naming the option and its
 * range, and no client. */
#define REFUSED_OPTION(url, field, value, needle)                                       \
    do {                                                                                \
        seatcore_options options_ = seatcore_options_default();                         \
        seatcore_client *client_ = NULL;                                                \
        options_.field = value;                                                         \
        EXPECT(seatcore_client_new(url, &options_, &client_, &err_), SEATCORE_CONFIG, needle); \
        CHECK(client_ == NULL);                                                         \
    } while (0)

int main(void) {
    const char *url = getenv("DATABASE_URL");
    seatcore_client *client = NULL;
    seatcore_hold *hold = SENTINEL;
    seatcore_booking *booking = SENTINEL;
    seatcore_status *status = NULL;
    seatcore_seat_counts counts;
    uint64_t shows = 12345;
    const char *show = "bad_input_show";
    const char *good[] = {"A1", "A2", "A3"};
    const char *with_null[] = {"A1", NULL};
    const char not_utf8[] = {'A', (char)0xff, (char)0xfe, 0};
    const char *bad_list[] = {"A1", not_utf8};
    const char *dup[] = {"A1", " A1 "};
    const char *blank[] = {"A1", "   "};
    const seatcore_seats one = {good, 1};
    const seatcore_seats null_in = {with_null, 2};
    const seatcore_seats not_utf8_in = {bad_list, 2};
    seatcore_options options = seatcore_options_default();
    seatcore_audit_report *report = SENTINEL;
    seatcore_error *err = NULL;
    seatcore_result rc;

    if (url == NULL) {
        fprintf(stderr, "bad_input: set DATABASE_URL\n");
        return 2;
    }

    /* Options out of range: refused with the option's name and range, no client made. */
    REFUSED_OPTION(url, pool_size, 0, "pool_size must be from 1 to 1000");
    REFUSED_OPTION(url, pool_size, 1001, "pool_size");
    REFUSED_OPTION(url, lock_timeout_ms, 0, "lock_timeout must be from 1 ms");
    REFUSED_OPTION(url, lock_timeout_ms, UINT64_MAX, "lock_timeout");
    REFUSED_OPTION(url, statement_timeout_ms, 0, "statement_timeout");
    REFUSED_OPTION(url, checkout_timeout_ms, 0, "checkout_timeout");
    REFUSED_OPTION(url, connect_timeout_ms, 0, "connect_timeout");
    REFUSED_OPTION(url, min_idle, 1001, "min_idle");
    REFUSED_OPTION(url, sweep_batch, 0, "sweep_batch");
    REFUSED_OPTION(url, change_retention_s, 59, "change_retention");
    REFUSED_OPTION(url, max_hold_life_s, 0, "max_hold_life");
    options.read_url = not_utf8;
    EXPECT(seatcore_client_new(url, &options, &client, &err_), SEATCORE_INVALID_UTF8, "options.read_url");
    CHECK(client == NULL);
    options.read_url = NULL;
    options.lock_timeout_ms = 0;
    CHECK(seatcore_client_new(url, &options, &client, NULL) == SEATCORE_CONFIG); /* err may be NULL */
    CHECK(client == NULL);
    options = seatcore_options_default();
    options.pool_size = 3;
    /* min_idle above pool_size is no error: the whole pool stays open */
    options.min_idle = 4;

    /* Opening: NULL URL, NULL out, non-UTF-8 URL, configurations that cannot work. */
    EXPECT(seatcore_client_new(NULL, NULL, &client, &err_), SEATCORE_NULL_PARAMETER, "database_url");
    EXPECT(seatcore_client_new(url, NULL, NULL, &err_), SEATCORE_NULL_PARAMETER, "out");
    EXPECT(seatcore_client_new(not_utf8, NULL, &client, &err_), SEATCORE_INVALID_UTF8, "database_url");
    EXPECT(seatcore_client_new("not a url at all ===", NULL, &client, &err_), SEATCORE_CONFIG, "bad database URL");
    EXPECT(seatcore_client_new("postgres://nobody@127.0.0.1:1/none?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
                               NULL, &client, &err_),
           SEATCORE_CONFIG, "sslrootcert");
    CHECK(client == NULL);
    /* The pool gets the size set. */
    rc = seatcore_client_new(url, &options, &client, &err);
    if (rc == SEATCORE_OK) {
        seatcore_stats stats;
        CHECK(seatcore_client_stats(client, &stats, NULL) == SEATCORE_OK && stats.pool_max == 3);
    }
    if (rc != SEATCORE_OK) {
        fprintf(stderr, "bad_input: connect: %s\n", err->message);
        seatcore_error_free(err);
        return 1;
    }
    CHECK(err == NULL); /* never written on success */
    rc = seatcore_initialize_show(client, show, (seatcore_seats){good, 3}, NULL, &err);
    CHECK(rc == SEATCORE_OK || rc == SEATCORE_SHOW_EXISTS);
    seatcore_error_free(err);
    err = NULL;

    /* NULL handle and strings. */
    EXPECT(seatcore_hold_seats(NULL, show, one, 60, NULL, &hold, &err_), SEATCORE_NULL_PARAMETER, "client");
    EXPECT(seatcore_hold_seats(client, NULL, one, 60, NULL, &hold, &err_), SEATCORE_NULL_PARAMETER, "show_id");
    EXPECT(seatcore_hold_seats(client, show, one, 60, NULL, NULL, &err_), SEATCORE_NULL_PARAMETER, "out");
    EXPECT(seatcore_hold_seats(client, show, null_in, 60, NULL, &hold, &err_), SEATCORE_NULL_PARAMETER, "seats.ids[1]");
    EXPECT(seatcore_book_hold(client, show, NULL, &booking, &err_), SEATCORE_NULL_PARAMETER, "hold_id");
    EXPECT(seatcore_book_hold(NULL, NULL, NULL, NULL, &err_), SEATCORE_NULL_PARAMETER, "must not be NULL");
    EXPECT(seatcore_release_hold(client, NULL, "x", &err_), SEATCORE_NULL_PARAMETER, "show_id");
    EXPECT(seatcore_seat_status(client, show, NULL, &err_), SEATCORE_NULL_PARAMETER, "out");
    EXPECT(seatcore_seat_status(NULL, show, &status, &err_), SEATCORE_NULL_PARAMETER, "client");
    EXPECT(seatcore_initialize_show(client, NULL, (seatcore_seats){good, 3}, NULL, &err_),
           SEATCORE_NULL_PARAMETER, "show_id");
    EXPECT(seatcore_health(NULL, &shows, &err_), SEATCORE_NULL_PARAMETER, "client");
    EXPECT(seatcore_sweep_expired(NULL, NULL, &err_), SEATCORE_NULL_PARAMETER, "client");
    EXPECT(seatcore_reset_all(NULL, NULL, &err_), SEATCORE_NULL_PARAMETER, "client");
    EXPECT(seatcore_client_stats(client, NULL, &err_), SEATCORE_NULL_PARAMETER, "out");
    EXPECT(seatcore_seat_status_each(client, show, NULL, NULL, &counts, &err_), SEATCORE_NULL_PARAMETER, "callback");
    EXPECT(seatcore_seat_map_each(client, show, NULL, NULL, NULL, &err_), SEATCORE_NULL_PARAMETER, "callback");
    /* With err NULL as well: just the code. */
    CHECK(seatcore_hold_seats(NULL, NULL, (seatcore_seats){NULL, 0}, 0, NULL, NULL, NULL) == SEATCORE_NULL_PARAMETER);
    CHECK(seatcore_health(NULL, NULL, NULL) == SEATCORE_NULL_PARAMETER);

    /* Non-UTF-8 bytes. */
    EXPECT(seatcore_hold_seats(client, not_utf8, one, 60, NULL, &hold, &err_), SEATCORE_INVALID_UTF8, "show_id");
    EXPECT(seatcore_hold_seats(client, show, not_utf8_in, 60, NULL, &hold, &err_),
           SEATCORE_INVALID_UTF8, "seats.ids[1]");
    EXPECT(seatcore_book_hold(client, show, not_utf8, &booking, &err_), SEATCORE_INVALID_UTF8, "hold_id");
    EXPECT(seatcore_initialize_show(client, "bad_input_other", not_utf8_in, NULL, &err_), SEATCORE_INVALID_UTF8,
           "seats.ids[1]");
    /* ... and its position is readable. */
    rc = seatcore_hold_seats(client, show, not_utf8_in, 60, NULL, &hold, &err);
    CHECK(rc == SEATCORE_INVALID_UTF8 && err->has_index && err->index == 1);
    CHECK(err->unavailable.count == 0 && err->not_in_hold.count == 0);
    seatcore_error_free(err);
    err = NULL;
    /* An error about no position says so. */
    rc = seatcore_hold_seats(client, show, one, 0, NULL, &hold, &err);
    CHECK(rc == SEATCORE_INVALID_INPUT && !err->has_index && err->index == 0);
    seatcore_error_free(err);
    err = NULL;

    /* Empty lists and absurd counts: refused before the array is read. */
    EXPECT(seatcore_hold_seats(client, show, (seatcore_seats){NULL, 0}, 60, NULL, &hold, &err_),
           SEATCORE_INVALID_INPUT, "at least one seat");
    EXPECT(seatcore_hold_seats(client, show, (seatcore_seats){good, 0}, 60, NULL, &hold, &err_),
           SEATCORE_INVALID_INPUT, "at least one seat");
    EXPECT(seatcore_hold_seats(client, show, (seatcore_seats){good, SIZE_MAX}, 60, NULL, &hold, &err_),
           SEATCORE_INVALID_INPUT, "at most");
    EXPECT(seatcore_hold_seats(client, show, (seatcore_seats){good, 1001}, 60, NULL, &hold, &err_),
           SEATCORE_INVALID_INPUT, "at most 1000");
    EXPECT(seatcore_initialize_show(client, "bad_input_other", (seatcore_seats){good, SIZE_MAX / 2}, NULL, &err_),
           SEATCORE_INVALID_INPUT, "at most");
    EXPECT(seatcore_initialize_show(client, "bad_input_other", (seatcore_seats){NULL, 0}, NULL, &err_),
           SEATCORE_INVALID_INPUT, "at least one seat");
    EXPECT(seatcore_hold_seats(client, show, (seatcore_seats){NULL, 2}, 60, NULL, &hold, &err_),
           SEATCORE_NULL_PARAMETER, "seats.ids");

    /* The core's rules. */
    EXPECT(seatcore_hold_seats(client, show, (seatcore_seats){dup, 2}, 60, NULL, &hold, &err_),
           SEATCORE_INVALID_INPUT, "duplicates");
    EXPECT(seatcore_hold_seats(client, show, (seatcore_seats){blank, 2}, 60, NULL, &hold, &err_),
           SEATCORE_INVALID_INPUT, "empty strings");
    EXPECT(seatcore_hold_seats(client, show, one, 0, NULL, &hold, &err_), SEATCORE_INVALID_INPUT, "hold duration");
    EXPECT(seatcore_hold_seats(client, show, one, -5, NULL, &hold, &err_), SEATCORE_INVALID_INPUT, "hold duration");
    EXPECT(seatcore_hold_seats(client, show, one, INT64_MAX, NULL, &hold, &err_), SEATCORE_INVALID_INPUT,
           "hold duration");
    EXPECT(seatcore_hold_seats(client, "", one, 60, NULL, &hold, &err_), SEATCORE_INVALID_INPUT, "show_id");
    EXPECT(seatcore_hold_seats(client, "a\nb", one, 60, NULL, &hold, &err_), SEATCORE_INVALID_INPUT, "show_id");
    EXPECT(seatcore_hold_seats(client, show, one, 60, "", &hold, &err_), SEATCORE_INVALID_INPUT, "request key");
    EXPECT(seatcore_book_hold(client, show, "not-a-uuid", &booking, &err_), SEATCORE_HOLD_NOT_FOUND, "hold not found");
    EXPECT(seatcore_release_hold(client, show, "", &err_), SEATCORE_HOLD_NOT_FOUND, "hold not found");
    EXPECT(seatcore_hold_seats(client, show, (seatcore_seats){(const char *[]){"Z9"}, 1}, 60, NULL, &hold, &err_),
           SEATCORE_INVALID_SEAT_IDS, "invalid seat ID(s)");
    EXPECT(seatcore_hold_seats(client, "no_such_show", one, 60, NULL, &hold, &err_), SEATCORE_SHOW_NOT_FOUND,
           "show not found");
    {
        seatcore_sweeper *sweeper = SENTINEL;
        EXPECT(seatcore_sweeper_start(client, 0, &sweeper, &err_), SEATCORE_CONFIG, "sweep_interval");
        EXPECT(seatcore_sweeper_start(client, UINT64_MAX, &sweeper, &err_), SEATCORE_CONFIG, "sweep_interval");
        CHECK(sweeper == SENTINEL);
    }

    /* The audit: NULL client or out, bad show ids. */
    EXPECT(seatcore_audit(NULL, NULL, &report, &err_), SEATCORE_NULL_PARAMETER, "client");
    EXPECT(seatcore_audit(client, NULL, NULL, &err_), SEATCORE_NULL_PARAMETER, "out");
    EXPECT(seatcore_audit(client, "", &report, &err_), SEATCORE_INVALID_INPUT, "show_id");
    EXPECT(seatcore_audit(client, not_utf8, &report, &err_), SEATCORE_INVALID_UTF8, "show_id");

    /* Nothing was written through the out-parameters. */
    CHECK(report == SENTINEL);
    CHECK(hold == SENTINEL);
    CHECK(booking == SENTINEL);
    CHECK(status == NULL);
    CHECK(shows == 12345);

    /* Static names. */
    CHECK(strcmp(seatcore_result_name(4000000000u), "SEATCORE_UNKNOWN_ERROR") == 0);
    CHECK(strcmp(seatcore_result_name(SEATCORE_CONFIG), "SEATCORE_CONFIG") == 0);
    CHECK(strcmp(seatcore_result_name(SEATCORE_INDEX_OUT_OF_RANGE), "SEATCORE_INDEX_OUT_OF_RANGE") == 0);
    CHECK(strcmp(seatcore_seat_state_name(77), "unknown") == 0);
    rc = seatcore_seat_status(client, show, &status, NULL);
    CHECK(rc == SEATCORE_OK);
    if (rc == SEATCORE_OK) {
        /* ... and the database is unchanged: no seat held or booked. */
        counts = status->counts;
        CHECK(counts.total == 3 && counts.available == 3 && counts.held == 0 && counts.invariants_valid);
        CHECK(status->seat_count == 3 && strcmp(status->seats[0].seat_id, "A1") == 0);
        CHECK(status->seats[2].state == SEATCORE_SEAT_STATE_AVAILABLE && status->seats[2].hold_expires_at == NULL);
        seatcore_status_free(status);
    }
    /* ... and every invariant holds, in this show and in all. */
    report = NULL;
    rc = seatcore_audit(client, show, &report, NULL);
    CHECK(rc == SEATCORE_OK);
    if (rc == SEATCORE_OK) {
        CHECK(report->summary.ok && report->summary.shows == 1 && report->summary.seats == 3);
        CHECK(report->summary.held == 0 && report->summary.booked == 0);
        CHECK(report->summary.problem_count == 0 && report->problems_listed == 0);
        seatcore_audit_free(report);
    }
    report = NULL;
    CHECK(seatcore_audit(client, NULL, &report, NULL) == SEATCORE_OK && report->summary.ok);
    seatcore_audit_free(report);

    /* Every _free takes NULL. */
    seatcore_client_free(NULL);
    seatcore_hold_free(NULL);
    seatcore_booking_free(NULL);
    seatcore_cancellation_free(NULL);
    seatcore_seats_released_free(NULL);
    seatcore_status_free(NULL);
    seatcore_map_free(NULL);
    seatcore_change_free(NULL);
    seatcore_history_free(NULL);
    seatcore_watch_free(NULL);
    seatcore_error_free(NULL);
    seatcore_sweeper_free(NULL);
    seatcore_audit_free(NULL);

    seatcore_client_free(client);
    printf("bad_input: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
