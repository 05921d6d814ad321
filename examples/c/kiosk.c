/*
 * A box-office kiosk in C99: show the seat map of a show, hold two seats, book them,
 * print the booking; then offer the best four seats together (held, shown, and released
 * when the customer declines).
 *
 *   DATABASE_URL=postgres://... ./kiosk [show_id]
 *
 * The show (default "kiosk_demo_c") is created with seats A1..E10 if it does not exist;
 * when fewer than two seats are left, a fresh show is created next to it. Exits 0 on
 * success, 1 on any failure (with the library's message on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seatcore.h"

#define ROWS 5
#define SEATS_PER_ROW 10

/* Prints the failure and frees its error object; returns 1 for `return fail(...)`. */
static int fail(const char *what, seatcore_result code, seatcore_error *err) {
    fprintf(stderr, "kiosk: %s failed: %s (%s)\n", what,
            err ? err->message : "no details", seatcore_result_name(code));
    seatcore_error_free(err);
    return 1;
}

/* Prints a list of seats to `to`, each after a space. */
static void print_seats(FILE *to, seatcore_seats seats) {
    size_t i;
    for (i = 0; i < seats.count; i++) {
        fprintf(to, " %s", seats.ids[i]);
    }
}

/* Creates the show with seats A1..E10; an existing show is fine. */
static int ensure_show(const seatcore_client *client, const char *show_id) {
    char names[ROWS * SEATS_PER_ROW][8];
    const char *ids[ROWS * SEATS_PER_ROW];
    size_t n = 0;
    int row, col;
    seatcore_error *err = NULL;
    seatcore_result rc;

    for (row = 0; row < ROWS; row++) {
        for (col = 1; col <= SEATS_PER_ROW; col++) {
            sprintf(names[n], "%c%d", 'A' + row, col);
            ids[n] = names[n];
            n++;
        }
    }
    rc = seatcore_initialize_show(client, show_id, (seatcore_seats){ids, n}, NULL, &err);
    if (rc == SEATCORE_SHOW_EXISTS) {
        seatcore_error_free(err);
        return 0;
    }
    if (rc != SEATCORE_OK) {
        return fail("initialize show", rc, err);
    }
    printf("created show %s with %u seats\n", show_id, (unsigned)n);
    return 0;
}

/* Prints the seat map (one row of the hall per line: . free, h held, X booked, # blocked)
 * and picks
 * the first two available seats into picked[0..1]; *found says how many it found. */
static int show_seat_map(const seatcore_client *client, const char *show_id,
                         char picked[2][65], int *found) {
    seatcore_status *status = NULL;
    seatcore_error *err = NULL;
    seatcore_seat_counts counts;
    seatcore_result rc;
    size_t i;
    char row = 0;

    rc = seatcore_seat_status(client, show_id, &status, &err);
    if (rc != SEATCORE_OK) {
        return fail("read seat status", rc, err);
    }
    counts = status->counts;
    printf("show %s: %llu seats, %llu available, %llu held, %llu booked (invariants %s)\n",
           status->show_id, (unsigned long long)counts.total,
           (unsigned long long)counts.available, (unsigned long long)counts.held,
           (unsigned long long)counts.booked, counts.invariants_valid ? "valid" : "BROKEN");
    *found = 0;
    for (i = 0; i < status->seat_count; i++) {
        const seatcore_seat *seat = &status->seats[i];
        if (seat->seat_id[0] != row) {
            row = seat->seat_id[0];
            printf("%s  %c |", i ? "\n" : "", row);
        }
        printf(" %s", seat->state == SEATCORE_SEAT_STATE_AVAILABLE ? "."
                      : seat->state == SEATCORE_SEAT_STATE_HELD    ? "h"
                      : seat->state == SEATCORE_SEAT_STATE_BLOCKED ? "#"
                                                                   : "X");
        if (seat->state == SEATCORE_SEAT_STATE_AVAILABLE && *found < 2) {
            strncpy(picked[*found], seat->seat_id, 64);
            picked[*found][64] = '\0';
            (*found)++;
        }
    }
    printf("\n");
    seatcore_status_free(status);
    if (!counts.invariants_valid) {
        fprintf(stderr, "kiosk: the database reports broken invariants\n");
        return 1;
    }
    return 0;
}

/* Offers the best four seats side by side in one row: holds them, shows them, and
 * releases them (this customer declines). No four together is an answer, not a failure. */
static int offer_best_four(const seatcore_client *client, const char *show_id) {
    seatcore_hold *best = NULL;
    seatcore_error *err = NULL;
    seatcore_result rc;

    rc = seatcore_hold_best(client, show_id, 4, NULL, 120, NULL, &best, &err);
    if (rc == SEATCORE_NO_ADJACENT_SEATS) {
        printf("no four seats together are left\n");
        seatcore_error_free(err);
        return 0;
    }
    if (rc != SEATCORE_OK) {
        return fail("hold the best four seats", rc, err);
    }
    printf("best four together:");
    print_seats(stdout, best->seats);
    printf(" (held until %s)\n", best->at);
    rc = best->seats.count == 4 ? SEATCORE_OK : SEATCORE_INVALID_INPUT;
    if (rc == SEATCORE_OK) {
        rc = seatcore_release_hold(client, show_id, best->id, &err);
    }
    seatcore_hold_free(best);
    if (rc != SEATCORE_OK) {
        return fail("offer the best four seats", rc, err);
    }
    printf("declined: the four seats are free again\n");
    return 0;
}

/* Holds the two picked seats and books them; prints the booking. */
static int hold_and_book(const seatcore_client *client, const char *show_id, char picked[2][65]) {
    const char *want[2];
    seatcore_hold *hold = NULL;
    seatcore_booking *booking = NULL;
    seatcore_error *err = NULL;
    seatcore_result rc;
    int failed;

    want[0] = picked[0];
    want[1] = picked[1];
    rc = seatcore_hold_seats(client, show_id, (seatcore_seats){want, 2}, 120, NULL, &hold, &err);
    if (rc != SEATCORE_OK) {
        if (rc == SEATCORE_SEATS_UNAVAILABLE) {
            fprintf(stderr, "kiosk: just taken:");
            print_seats(stderr, err->unavailable);
            fprintf(stderr, "\n");
        }
        return fail("hold", rc, err);
    }
    printf("held %s and %s until %s (hold %s)\n", hold->seats.ids[0], hold->seats.ids[1], hold->at,
           hold->id);

    rc = seatcore_book_hold(client, show_id, hold->id, &booking, &err);
    if (rc != SEATCORE_OK) {
        failed = fail("book", rc, err);
    } else {
        printf("booking %s for show %s at %s:", booking->id, booking->show_id, booking->at);
        print_seats(stdout, booking->seats);
        printf("\n");
        failed = booking->seats.count != 2 || strcmp(booking->id, hold->id) != 0;
        if (failed) {
            fprintf(stderr, "kiosk: the booking does not match the hold\n");
        }
    }
    seatcore_booking_free(booking);
    seatcore_hold_free(hold);
    return failed;
}

int main(int argc, char **argv) {
    const char *url = getenv("DATABASE_URL");
    char show_id[128];
    char picked[2][65];
    int found = 0;
    seatcore_client *client = NULL;
    seatcore_error *err = NULL;
    seatcore_result rc;
    int status = 1;

    if (url == NULL || url[0] == '\0') {
        fprintf(stderr, "kiosk: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1/seatcore)\n");
        return 1;
    }
    snprintf(show_id, sizeof show_id, "%s", argc > 1 ? argv[1] : "kiosk_demo_c");
    printf("libseatcore %s\n", seatcore_version());

    rc = seatcore_client_new(url, NULL, &client, &err);
    if (rc != SEATCORE_OK) {
        return fail("connect", rc, err);
    }
    if (ensure_show(client, show_id) || show_seat_map(client, show_id, picked, &found)) {
        goto done;
    }
    if (found < 2) {
        /* Sold out: open another performance of the show. */
        snprintf(show_id, sizeof show_id, "%.100s_%ld", argc > 1 ? argv[1] : "kiosk_demo_c",
                 (long)time(NULL));
        if (ensure_show(client, show_id) || show_seat_map(client, show_id, picked, &found)) {
            goto done;
        }
        if (found < 2) {
            fprintf(stderr, "kiosk: no two free seats in a fresh show\n");
            goto done;
        }
    }
    if (hold_and_book(client, show_id, picked) || show_seat_map(client, show_id, picked, &found) ||
        offer_best_four(client, show_id)) {
        goto done;
    }
    status = 0;

done:
    seatcore_client_free(client);
    return status;
}
